import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { AgentctlError } from '../../src/errors.js';
import { specHash } from '../../src/spec-hash.js';
import type { DesiredState } from '../../src/types.js';

const FILE = '/srv/demo/agents.yaml';

function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

function parse(text: string): DesiredState {
  return parseConfig(text, { file: FILE, baseDir: '/srv/demo', defaultProject: 'demo' });
}

function problemsOf(text: string): string[] {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(AgentctlError);
    const e = err as AgentctlError;
    expect(e.kind).toBe('config');
    return [e.message, ...e.details];
  }
  throw new Error('expected a config error');
}

const TWO = [
  'version: 1',
  'runtimeDir: ./rt',
  'engines:',
  '  local: {}',
  '  gpu-box: { host: "ssh://ops@gpu-box", runtimeDir: /srv/agents }',
  '  lab: { host: "tcp://lab:2376", tls: { ca: ./ca.pem, cert: certs/cert.pem, key: /etc/k.pem }, runtimeDir: /data/ag/ }',
];

describe('engines: in the file', () => {
  it('places each agent on its engine, with its working directory under that engine runtimeDir', () => {
    const d = parse(
      yaml(...TWO, 'agents:', '  coder: { engine: gpu-box }', '  tester: {}', '  lab1: { engine: lab }'),
    );
    expect(d.engines).toEqual([
      {
        name: 'gpu-box',
        host: 'ssh://ops@gpu-box',
        runtimeDir: '/srv/agents',
        pos: { file: FILE, line: 5, col: 3 },
      },
      {
        name: 'lab',
        host: 'tcp://lab:2376',
        tls: { ca: '/srv/demo/ca.pem', cert: '/srv/demo/certs/cert.pem', key: '/etc/k.pem' },
        runtimeDir: '/data/ag',
        pos: { file: FILE, line: 6, col: 3 },
      },
      { name: 'local', runtimeDir: '/srv/demo/rt' },
    ]);
    const by = Object.fromEntries(d.agents.map((a) => [a.id, a]));
    expect(by.coder?.engine).toBe('gpu-box');
    expect(by.coder?.workDir).toBe('/srv/agents/agent-working-directory/coder');
    expect(by.lab1?.workDir).toBe('/data/ag/agent-working-directory/lab1');
    expect(by.tester?.engine).toBeUndefined();
    expect(by.tester?.workDir).toBe('/srv/demo/rt/agent-working-directory/tester');
  });

  it('an ssh engine identityFile is resolved against the file, ~/ kept for the user home', () => {
    const d = parse(
      yaml(
        'version: 1',
        'engines:',
        '  a: { host: "ssh://ops@a", runtimeDir: /srv, identityFile: keys/id_a }',
        '  b: { host: "ssh://ops@b", runtimeDir: /srv, identityFile: ~/.ssh/id_b }',
        'agents: {}',
      ),
    );
    expect(d.engines?.find((e) => e.name === 'a')?.identityFile).toBe('/srv/demo/keys/id_a');
    expect(d.engines?.find((e) => e.name === 'b')?.identityFile).toBe('~/.ssh/id_b');
  });

  it('a file without engines: has no engines list, and engine: local is the same spec as none', () => {
    const plain = parse(yaml('version: 1', 'agents:', '  a: {}'));
    const explicit = parse(yaml('version: 1', 'agents:', '  a: { engine: local }'));
    expect(plain.engines).toBeUndefined();
    expect(explicit.agents).toEqual(plain.agents);
  });

  it('engine is not hashed: the same agent on another engine with the same workDir hashes the same', () => {
    const d = parse(yaml(...TWO, 'agents:', '  a: { engine: gpu-box }'));
    const a = d.agents[0];
    if (!a) throw new Error('no agent');
    expect(specHash({ ...a, engine: 'lab' })).toBe(specHash(a));
  });

  it('defaults: engine applies to every agent that sets none', () => {
    const d = parse(
      yaml(...TWO, 'defaults: { engine: lab }', 'agents:', '  a: {}', '  b: { engine: local }'),
    );
    expect(d.agents.map((a) => [a.id, a.engine])).toEqual([
      ['a', 'lab'],
      ['b', undefined],
    ]);
  });

  it.each([
    [
      'an unknown engine, at its line, with the closest name',
      [...TWO, 'agents:', '  coder: { engine: gpu-bx }'],
      `${FILE}:8:20: agents.coder.engine: unknown engine "gpu-bx"; did you mean "gpu-box"? (the file's engines: gpu-box, lab, local)`,
    ],
    [
      'an unknown engine in defaults',
      [...TWO, 'defaults:', '  engine: nowhere', 'agents:', '  a: {}'],
      `${FILE}:8:11: defaults.engine: unknown engine "nowhere" (the file's engines: gpu-box, lab, local)`,
    ],
    [
      'a non-local engine without runtimeDir',
      ['version: 1', 'engines:', '  far: { host: "ssh://far" }', 'agents: {}'],
      `${FILE}:3:3: engines: engine far needs runtimeDir: an absolute path on that engine's host under which its agents' working directories live`,
    ],
    [
      'a non-local engine without host',
      ['version: 1', 'engines:', '  far: { runtimeDir: /x }', 'agents: {}'],
      `${FILE}:3:3: engines: engine far needs host (unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://user@host)`,
    ],
    [
      'a relative runtimeDir (a path on another host cannot be relative to this file)',
      ['version: 1', 'engines:', '  far: { host: "ssh://far", runtimeDir: ./x }', 'agents: {}'],
      `${FILE}:3:41: engines.far.runtimeDir: "./x" is not valid: it must match ^/`,
    ],
    [
      'local redefined',
      ['version: 1', 'engines:', '  local: { host: "unix:///x.sock" }', 'agents: {}'],
      `${FILE}:3:12: engines.local: the local engine is DOCKER_HOST (or the default socket) with the top-level runtimeDir; it takes no settings: declare another engine for another address`,
    ],
    [
      'tls on an ssh engine',
      [
        'version: 1',
        'engines:',
        '  far: { host: "ssh://far", runtimeDir: /x, tls: { ca: a, cert: b, key: c } }',
        'agents: {}',
      ],
      `${FILE}:3:16: engines.far.host: tls is for tcp:// engines; ssh:// is encrypted by ssh`,
    ],
    [
      'identityFile on a tcp engine',
      [
        'version: 1',
        'engines:',
        '  far: { host: "tcp://127.0.0.1:2375", runtimeDir: /x, identityFile: k }',
        'agents: {}',
      ],
      `${FILE}:3:70: engines.far.identityFile: identityFile is for ssh:// engines (the key to log in with)`,
    ],
    [
      'a relative unix socket',
      ['version: 1', 'engines:', '  two: { host: "unix://x.sock", runtimeDir: /x }', 'agents: {}'],
      `${FILE}:3:16: engines.two.host: a unix socket path must be absolute: unix:///path`,
    ],
    [
      'a tcp engine without port',
      ['version: 1', 'engines:', '  two: { host: "tcp://lab", runtimeDir: /x }', 'agents: {}'],
      `${FILE}:3:16: engines.two.host: expected tcp://HOST:PORT`,
    ],
    [
      'an unknown scheme',
      ['version: 1', 'engines:', '  two: { host: "npipe:////./pipe/docker", runtimeDir: /x }', 'agents: {}'],
      `${FILE}:3:16: engines.two.host: "npipe:////./pipe/docker" is not valid: it must match ^(unix|tcp|ssh)://.+$`,
    ],
    [
      'a misspelt engine field',
      ['version: 1', 'engines:', '  two: { host: "ssh://a", runtimedir: /x }', 'agents: {}'],
      `${FILE}:3:27: engines.two: unknown field "runtimedir"; did you mean "runtimeDir"?`,
    ],
    [
      'egress rules on a non-local engine (the gateway policy lives on this host)',
      [...TWO, 'agents:', '  a: { engine: lab, egress: { allow: [example.com] } }'],
      `${FILE}:8:29: agents.a.egress: egress rules on engine lab are not supported yet: the egress gateway reads its policy file from this host's disk; run this agent on the local engine, or use egress all or none`,
    ],
    [
      'build: on a non-local engine (builds run on the local engine)',
      [...TWO, 'agents:', '  a: { engine: lab, build: { context: . } }'],
      `${FILE}:8:28: agents.a.build: build: for an agent on engine lab is not supported yet (images are built on the local engine); build the image on that engine and name it in image:`,
    ],
  ])('refuses %s', (_name, lines, message) => {
    expect(problemsOf(yaml(...lines))).toEqual([message]);
  });
});
