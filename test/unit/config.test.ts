import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AGENT, loadConfig, parseConfig } from '../../src/config/load.js';
import { AgentctlError } from '../../src/errors.js';
import type { AgentSpec, DesiredState } from '../../src/types.js';

const FILE = '/srv/demo/agents.yaml';
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** One YAML document from its lines, so that line numbers in expectations are easy to count. */
function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

function parse(text: string): DesiredState {
  return parseConfig(text, { file: FILE, baseDir: '/srv/demo', defaultProject: 'demo' });
}

function agent(state: DesiredState, id: string): AgentSpec {
  const found = state.agents.find((a) => a.id === id);
  if (!found) throw new Error(`no agent ${id} in ${state.agents.map((a) => a.id).join(', ')}`);
  return found;
}

/** Every problem line of the config error that `run` throws. */
function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(AgentctlError);
    const error = err as AgentctlError;
    expect(error.kind).toBe('config');
    return [error.message, ...error.details];
  }
  throw new Error('expected a config error');
}

async function asyncProblemsOf(run: () => Promise<unknown>): Promise<string[]> {
  const err: unknown = await run().then(
    () => {
      throw new Error('expected a config error');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentctlError);
  const error = err as AgentctlError;
  expect(error.kind).toBe('config');
  return [error.message, ...error.details];
}

describe('defaults', () => {
  it('reproduce the defaults table for an agent that sets nothing', () => {
    const state = parse(yaml('version: 1', 'agents:', '  agent-001: {}'));
    expect(state).toEqual({
      file: FILE,
      project: 'demo',
      runtimeDir: '/srv/demo/evanai_runtime',
      namePrefix: 'claude-agent-',
      builds: [],
      agents: [
        {
          id: 'agent-001',
          name: 'claude-agent-agent-001',
          image: 'claude-agent:latest',
          env: { AGENT_ID: 'agent-001', AGENT_WORK_DIR: '/mnt', PYTHONPATH: '/mnt', TMPDIR: '/tmp/agent' },
          memoryBytes: 2 * GiB,
          nanoCpus: 2_000_000_000,
          pids: 1024,
          ulimits: { nofile: { soft: 1024, hard: 2048 } },
          tmpfs: {
            '/home/agent/.cache': 'rw,noexec,nosuid,size=50m',
            '/tmp/agent': 'rw,noexec,nosuid,size=100m',
          },
          readOnly: true,
          network: 'bridge',
          capAdd: ['CHOWN', 'DAC_OVERRIDE', 'SETGID', 'SETUID'],
          capDrop: ['ALL'],
          noNewPrivileges: true,
          init: true,
          logs: { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } },
          restart: 'unless-stopped',
          state: 'running',
          labels: {},
          healthcheck: {
            command: ['/sbin/docker-init', '--version'],
            intervalMs: 300_000,
            timeoutMs: 30_000,
            retries: 3,
            startPeriodMs: 0,
          },
          workDir: '/srv/demo/evanai_runtime/agent-working-directory/agent-001',
        },
      ],
      positions: { 'agent-001': { file: FILE, line: 3, col: 3 } },
      warnings: [],
      builtInPids: ['agent-001'],
    });
    const [spec] = state.agents;
    expect(spec && 'command' in spec).toBe(false);
    expect(spec && 'user' in spec).toBe(false);
    expect(spec && 'runtime' in spec).toBe(false);
  });

  it('treat an empty agent value like {}', () => {
    const state = parse(yaml('version: 1', 'agents:', '  a:', '  b: {}'));
    const { id: _a, name: _an, env: _ae, workDir: _aw, ...a } = agent(state, 'a');
    const { id: _b, name: _bn, env: _be, workDir: _bw, ...b } = agent(state, 'b');
    expect(a).toEqual(b);
  });

  it('are exported in the file format', () => {
    expect(DEFAULT_AGENT).toMatchObject({ image: 'claude-agent:latest', memory: '2g', cpus: 2, replicas: 1 });
  });
});

describe('pids under gVisor', () => {
  // Its pids cgroup counts the sandbox's own threads (~8 per agent process): the default leaves room
  // for about as many processes as 1024 does under runc. A pids the file sets is kept as written.
  it.each([
    ['runtime: runsc, pids left out', ['  a: { runtime: runsc }'], [], 8192],
    ['runtime: runsc-debug from defaults', ['  a: {}'], ['  runtime: runsc-debug'], 8192],
    ['runtime: runsc with its own pids', ['  a: { runtime: runsc, pids: 300 }'], [], 300],
    ['runtime: runsc, pids in defaults', ['  a: { runtime: runsc }'], ['  pids: 500'], 500],
    ['runtime: crun', ['  a: { runtime: crun }'], [], 1024],
    ['runtime: runscx (another name)', ['  a: { runtime: runscx }'], [], 1024],
    ['no runtime', ['  a: {}'], [], 1024],
  ])('%s -> %d', (_name, agentLines, defaultLines, pids) => {
    const text = yaml(
      'version: 1',
      'defaults:',
      ...(defaultLines.length ? defaultLines : ['  {}']),
      'agents:',
      ...agentLines,
    );
    expect(agent(parse(text), 'a').pids).toBe(pids);
  });

  it('records the agents whose pids no layer sets, replicas included, for preflight to check against the engine', () => {
    // The file cannot see a gVisor registered under another name, or the engine's default runtime.
    const text = yaml(
      'version: 1',
      'agents:',
      '  own: { pids: 1024 }',
      '  left: { runtime: gvisor }',
      '  w: { replicas: 2 }',
      '  g: { runtime: runsc }',
    );
    expect(parse(text).builtInPids).toEqual(['g', 'left', 'w-1', 'w-2']);
    expect(parse(yaml('version: 1', 'defaults: { pids: 2048 }', 'agents: { a: {} }')).builtInPids).toBe(
      undefined,
    );
  });
});

describe('top-level settings', () => {
  it('resolve runtimeDir against the file directory and take project and namePrefix', () => {
    const state = parse(
      yaml(
        'version: 1',
        'project: fleet.one',
        'runtimeDir: ../data',
        'namePrefix: bot_',
        'agents: { a: {} }',
      ),
    );
    expect(state.project).toBe('fleet.one');
    expect(state.runtimeDir).toBe('/srv/data');
    expect(agent(state, 'a')).toMatchObject({
      name: 'bot_a',
      workDir: '/srv/data/agent-working-directory/a',
    });
  });

  it('accept an absolute runtimeDir', () => {
    expect(parse(yaml('version: 1', 'runtimeDir: /var/lib/agents', 'agents: {}')).runtimeDir).toBe(
      '/var/lib/agents',
    );
  });
});

describe('agents', () => {
  it('are sorted by id and positioned at their keys', () => {
    const state = parse(yaml('version: 1', 'agents:', '  zeta: {}', '  alpha: {}', '  mid: {}'));
    expect(state.agents.map((a) => a.id)).toEqual(['alpha', 'mid', 'zeta']);
    expect(state.positions).toEqual({
      zeta: { file: FILE, line: 3, col: 3 },
      alpha: { file: FILE, line: 4, col: 3 },
      mid: { file: FILE, line: 5, col: 3 },
    });
  });

  it('expand replicas into full agents that share the key position', () => {
    const state = parse(yaml('version: 1', 'agents:', '  solo: {}', '  worker: { replicas: 3, memory: 1g }'));
    expect(state.agents.map((a) => a.id)).toEqual(['solo', 'worker-1', 'worker-2', 'worker-3']);
    for (const id of ['worker-1', 'worker-2', 'worker-3']) {
      expect(agent(state, id)).toMatchObject({
        name: `claude-agent-${id}`,
        memoryBytes: GiB,
        env: { AGENT_ID: id },
        workDir: `/srv/demo/evanai_runtime/agent-working-directory/${id}`,
      });
      expect(state.positions[id]).toEqual({ file: FILE, line: 4, col: 3 });
    }
  });

  it('expand replicas set in defaults for every key, unless the agent says otherwise', () => {
    const state = parse(
      yaml('version: 1', 'defaults: { replicas: 2 }', 'agents: { a: {}, b: { replicas: 1 } }'),
    );
    expect(state.agents.map((a) => a.id)).toEqual(['a-1', 'a-2', 'b']);
  });

  it('convert every field to AgentSpec units', () => {
    const state = parse(
      yaml(
        'version: 1',
        'agents:',
        '  custom:',
        '    image: registry.local/agent:2',
        '    command: [python, -m, agent]',
        '    memory: 1.5g',
        '    cpus: 0.5',
        '    pids: 64',
        '    ulimits: { core: 0, nofile: { soft: 10, hard: 20 } }',
        '    tmpfs: { /tmp/agent: 104857600, /var/cache/x: 1.5m, /run/y: 1000 }',
        '    readOnly: false',
        '    network: agents-net',
        '    capabilities: { add: [cap_net_raw, CHOWN, chown], drop: [net_raw, ALL] }',
        '    noNewPrivileges: false',
        '    user: 1000',
        '    init: false',
        '    logs: { driver: local, options: { max-size: 5m, compress: true } }',
        '    restart: on-failure',
        '    state: stopped',
        '    labels: { team: research, tier: 2 }',
        '    runtime: runsc',
      ),
    );
    expect(agent(state, 'custom')).toMatchObject({
      image: 'registry.local/agent:2',
      command: ['python', '-m', 'agent'],
      memoryBytes: 1.5 * GiB,
      nanoCpus: 500_000_000,
      pids: 64,
      ulimits: {
        core: { soft: 0, hard: 0 },
        nofile: { soft: 10, hard: 20 },
      },
      tmpfs: {
        '/tmp/agent': 'rw,noexec,nosuid,size=100m',
        '/var/cache/x': 'rw,noexec,nosuid,size=1536k',
        '/run/y': 'rw,noexec,nosuid,size=1000',
      },
      readOnly: false,
      network: 'agents-net',
      capAdd: ['CHOWN', 'NET_RAW'],
      capDrop: ['ALL', 'NET_RAW'],
      noNewPrivileges: false,
      user: '1000',
      init: false,
      logs: { driver: 'local', options: { 'max-size': '5m', compress: 'true' } },
      restart: 'on-failure',
      state: 'stopped',
      labels: { team: 'research', tier: '2' },
      runtime: 'runsc',
    });
    expect(Object.keys(agent(state, 'custom').tmpfs)).toEqual(['/run/y', '/tmp/agent', '/var/cache/x']);
  });
});

describe('merging defaults', () => {
  const state = parse(
    yaml(
      'version: 1',
      'defaults:',
      '  memory: 4g',
      '  env: { SHARED: 1, MODE: interactive }',
      '  labels: { team: research }',
      '  ulimits: { nofile: 4096 }',
      '  tmpfs: { /scratch: 1g }',
      '  capabilities: { add: [kill] }',
      '  logs: { driver: local }',
      'agents:',
      '  plain: {}',
      '  custom:',
      '    memory: 512m',
      '    env: { MODE: batch, EXTRA: "yes", TMPDIR: /scratch, PYTHONPATH: /opt/lib }',
      '    labels: { tier: gold }',
      '    ulimits: { core: 0 }',
      '    tmpfs: { /tmp/agent: 10m }',
      '    capabilities: { drop: [NET_RAW] }',
    ),
  );

  it('applies defaults under every agent', () => {
    expect(agent(state, 'plain')).toMatchObject({
      memoryBytes: 4 * GiB,
      env: { SHARED: '1', MODE: 'interactive', TMPDIR: '/tmp/agent', PYTHONPATH: '/mnt', AGENT_ID: 'plain' },
      labels: { team: 'research' },
      ulimits: { nofile: { soft: 4096, hard: 4096 } },
      tmpfs: { '/scratch': 'rw,noexec,nosuid,size=1g' },
      capAdd: ['KILL'],
      capDrop: ['ALL'],
      logs: { driver: 'local', options: {} },
    });
  });

  it('lets the agent win, merging env, labels and ulimits by name and replacing the rest', () => {
    const custom = agent(state, 'custom');
    expect(custom.memoryBytes).toBe(512 * MiB);
    expect(custom.env).toEqual({
      AGENT_ID: 'custom',
      AGENT_WORK_DIR: '/mnt',
      EXTRA: 'yes',
      MODE: 'batch',
      PYTHONPATH: '/opt/lib',
      SHARED: '1',
      TMPDIR: '/scratch',
    });
    expect(custom.labels).toEqual({ team: 'research', tier: 'gold' });
    expect(custom.ulimits).toEqual({
      core: { soft: 0, hard: 0 },
      nofile: { soft: 4096, hard: 4096 },
    });
    expect(custom.tmpfs).toEqual({ '/tmp/agent': 'rw,noexec,nosuid,size=10m' });
    expect(custom.capAdd).toEqual(['KILL']);
    expect(custom.capDrop).toEqual(['NET_RAW']);
  });
});

describe('empty configurations', () => {
  it.each([
    ['an empty file', ''],
    ['only whitespace', '\n\n   \n'],
    ['only comments', yaml('# yaml-language-server: $schema=../schemas/agents.schema.json', '# nothing yet')],
    ['a lone document marker', yaml('---', '# nothing')],
  ])('%s is an error at 1:1, as the published schema says', (_, text) => {
    expect(problemsOf(() => parse(text))).toEqual([
      `${FILE}:1:1: the file is empty (or holds only comments): an agents file needs "version: 1" and "agents:" (write "agents: {}" for a fleet with no agents)`,
    ]);
  });

  it('no agents key is an error naming the missing field', () => {
    expect(problemsOf(() => parse(yaml('version: 1', 'project: quiet')))).toEqual([
      `${FILE}:1:1: missing required field "agents" (add "agents:" with one entry per agent, or "agents: {}" for none)`,
    ]);
  });

  it.each([
    ['an empty agents map', yaml('version: 1', 'agents: {}')],
    ['an agents key with no value', yaml('version: 1', 'agents:')],
  ])('%s is an empty fleet with a warning', (_, text) => {
    const state = parse(text);
    expect(state.agents).toEqual([]);
    expect(state.warnings.map((w) => w.message)).toEqual(['no agents declared']);
  });
});

describe('image references', () => {
  it.each([
    'busybox',
    'claude-agent:latest',
    'agentctl-test-busybox:latest',
    'library/debian:trixie-slim',
    'registry.example.com:5000/team/agent_x:v1.2-rc.3',
    'localhost/agent',
    'ghcr.io/org/a__b/c--d:TAG_1',
    `busybox@sha256:${'a'.repeat(64)}`,
    `busybox:1.36@sha256:${'b'.repeat(64)}`,
  ])('%s is accepted', (image) => {
    expect(agent(parse(yaml('version: 1', 'agents:', `  a: { image: "${image}" }`)), 'a').image).toBe(image);
  });

  it.each(['-busybox', 'busybox:', 'busybox:-tag', 'a//b', 'busy box', 'UPPER', 'x@sha256:abc', 'a/b/'])(
    '%s is refused',
    (image) => {
      const problems = problemsOf(() => parse(yaml('version: 1', 'agents:', `  a: { image: "${image}" }`)));
      expect(problems).toEqual([
        expect.stringMatching(new RegExp(`^${FILE}:3:15: agents\\.a\\.image: invalid image reference `)),
      ]);
    },
  );
});

describe('warnings', () => {
  it.each([
    [
      'host networking',
      '{ network: host }',
      /^agents\.a\.network: host networking: the agent shares the host's network stack/,
    ],
    ['a writable root filesystem', '{ readOnly: false }', /^agents\.a\.readOnly: writable root filesystem/],
    [
      'no-new-privileges off',
      '{ noNewPrivileges: false }',
      /^agents\.a\.noNewPrivileges: no-new-privileges is off/,
    ],
    [
      'a drop list without ALL',
      '{ capabilities: { drop: [NET_RAW] } }',
      /^agents\.a\.capabilities\.drop: does not drop ALL: the agent keeps Docker's default capabilities AUDIT_WRITE, /,
    ],
    [
      'an added capability',
      '{ capabilities: { add: [CHOWN, NET_RAW] } }',
      /^agents\.a\.capabilities\.add\[1\]: adds capability NET_RAW/,
    ],
    [
      'an nproc ulimit',
      '{ ulimits: { nproc: 512 } }',
      /^agents\.a\.ulimits\.nproc: nproc is counted per host uid across every container of that uid/,
    ],
  ])('are given for %s, at the setting', (_, settings, message) => {
    const state = parse(yaml('version: 1', 'agents:', `  a: ${settings}`));
    expect(state.warnings).toHaveLength(1);
    expect(state.warnings[0]?.message).toMatch(message);
    expect(state.warnings[0]?.pos).toMatchObject({ file: FILE, line: 3 });
  });

  it('are given once for a default shared by many agents', () => {
    const state = parse(yaml('version: 1', 'defaults: { network: host }', 'agents: { a: {}, b: {}, c: {} }'));
    expect(state.warnings.map((w) => [w.pos?.line, w.message])).toEqual([
      [2, expect.stringMatching(/^defaults\.network: host networking/)],
    ]);
  });

  it('are not given for the default capabilities, however spelled', () => {
    const state = parse(yaml('version: 1', 'agents: { a: { capabilities: { add: [cap_chown, setuid] } } }'));
    expect(state.warnings).toEqual([]);
  });
});

interface BadCase {
  name: string;
  text: string;
  /** The line the problem must be reported at. */
  line: number;
  message: RegExp;
}

const BAD: BadCase[] = [
  { name: 'invalid YAML', text: yaml('version: 1', 'agents:', '  a: [1, 2', 'x: 1'), line: 4, message: /./ },
  {
    name: 'a tab as indentation',
    text: yaml('version: 1', 'agents:', '\ta: {}'),
    line: 3,
    message: /[Tt]abs/,
  },
  {
    name: 'a duplicate key',
    text: yaml('version: 1', 'agents:', '  a: {}', '  b: {}', '  a: {}'),
    line: 5,
    message: /duplicate key "a"/,
  },
  {
    name: 'several documents',
    text: yaml('version: 1', '---', 'version: 1'),
    line: 2,
    message: /multiple documents/,
  },
  {
    name: 'an alias to an unknown anchor',
    text: yaml('version: 1', 'agents:', '  a: *nothing'),
    line: 3,
    message: /alias/i,
  },
  {
    name: 'a document that is not a map',
    text: yaml('- version: 1'),
    line: 1,
    message: /^expected a map, got a list$/,
  },
  {
    name: 'a missing version',
    text: yaml('agents:', '  a: {}'),
    line: 1,
    message: /missing required field "version"/,
  },
  {
    name: 'an unsupported version',
    text: yaml('version: 2'),
    line: 1,
    message: /^version: must be 1, got 2$/,
  },
  {
    name: 'an unknown top-level field',
    text: yaml('version: 1', 'agent:', '  a: {}'),
    line: 2,
    message: /^unknown field "agent"; did you mean "agents"\?$/,
  },
  {
    name: 'a misspelt agent field (memroy)',
    text: yaml('version: 1', 'agents:', '  a: { memroy: 2g }'),
    line: 3,
    message: /^agents\.a: unknown field "memroy"; did you mean "memory"\?$/,
  },
  {
    name: 'a singular agent field (cpu)',
    text: yaml('version: 1', 'agents:', '  a:', '    cpu: 2'),
    line: 4,
    message: /^agents\.a: unknown field "cpu"; did you mean "cpus"\?$/,
  },
  {
    name: 'a singular field under defaults (replica)',
    text: yaml('version: 1', 'defaults:', '  replica: 3', 'agents: {}'),
    line: 3,
    message: /^defaults: unknown field "replica"; did you mean "replicas"\?$/,
  },
  {
    name: 'a misspelt nested field (build.contxt)',
    text: yaml('version: 1', 'agents:', '  a: { build: { context: ., dockerfle: D } }'),
    line: 3,
    message: /^agents\.a\.build: unknown field "dockerfle"; did you mean "dockerfile"\?$/,
  },
  {
    name: 'an unknown field nothing is close to',
    text: yaml('version: 1', 'agents:', '  a: { flavour: mint }'),
    line: 3,
    message: /^agents\.a: unknown field "flavour"$/,
  },
  {
    name: 'an image reference with a shell variable',
    text: yaml('version: 1', 'agents:', '  a: { image: "${IMG:-x}" }'),
    line: 3,
    message:
      /^agents\.a\.image: invalid image reference "\$\{IMG:-x\}": expected \[registry\/\]name\[:tag\]\[@digest\] \(environment variables are not expanded in agents\.yaml\)$/,
  },
  {
    name: 'an image reference with upper-case letters',
    text: yaml('version: 1', 'defaults:', '  image: Claude-Agent:latest', 'agents: {}'),
    line: 3,
    message:
      /^defaults\.image: invalid image reference "Claude-Agent:latest": .* \(repository names must be lower-case\)$/,
  },
  {
    name: 'an image reference with a space',
    text: yaml('version: 1', 'agents:', '  a: { image: "busybox latest" }'),
    line: 3,
    message: /^agents\.a\.image: invalid image reference "busybox latest"/,
  },
  {
    name: 'a duplicate agent key',
    text: yaml('version: 1', 'agents:', '  uploader: {}', '  uploader: { memory: 1g }'),
    line: 4,
    message: /^duplicate key "uploader": map keys must be unique$/,
  },
  {
    name: 'a duplicate quoted key in a flow map',
    text: yaml('version: 1', 'agents:', '  a: { env: { "LONG_NAME": x, "LONG_NAME": y } }'),
    line: 3,
    message: /^duplicate key "LONG_NAME": map keys must be unique$/,
  },
  {
    name: 'privileged mode',
    text: yaml('version: 1', 'agents:', '  a:', '    memory: 1g', '    privileged: true'),
    line: 5,
    message: /^agents\.a: unknown field "privileged" \(agentctl never runs privileged containers\)$/,
  },
  {
    name: 'devices',
    text: yaml('version: 1', 'agents:', '  a: { devices: [/dev/kvm] }'),
    line: 3,
    message: /unknown field "devices"/,
  },
  {
    name: 'extra mounts in defaults',
    text: yaml('version: 1', 'defaults:', '  volumes: [/var/run/docker.sock:/var/run/docker.sock]'),
    line: 3,
    message: /^defaults: unknown field "volumes"/,
  },
  {
    name: 'a wrong type',
    text: yaml('version: 1', 'agents:', '  a:', '    cpus: two'),
    line: 4,
    message: /^agents\.a\.cpus: expected a number, got "two"$/,
  },
  {
    name: 'an agent that is not a map',
    text: yaml('version: 1', 'agents:', '  a: 3'),
    line: 3,
    message: /^agents\.a: expected a map, got 3$/,
  },
  {
    name: 'a non-boolean flag',
    text: yaml('version: 1', 'agents:', '  a: { readOnly: "yes" }'),
    line: 3,
    message: /^agents\.a\.readOnly: expected true or false, got "yes"$/,
  },
  {
    name: 'a memory size that is not a size',
    text: yaml('version: 1', 'agents:', '  worker:', '    memory: lots'),
    line: 4,
    message: /^agents\.worker\.memory: expected a size like 512m or 2g, got "lots"$/,
  },
  ...[
    ['0', /must be at least 6m \(Docker's minimum\), got 0/],
    ['"0"', /must be at least 6m/],
    ['-1g', /expected a size like 512m or 2g, got "-1g"/],
    ['1e99', /must be at most 1 PiB/],
    ['"1e99"', /expected a size like 512m or 2g, got "1e99"/],
    ['.inf', /expected a size like 512m or 2g, got Infinity/],
    ['1.5', /expected a size like 512m or 2g, got 1.5/],
    ['5m', /must be at least 6m/],
    ['2000000g', /must be at most 1 PiB/],
  ].map(([memory, message]) => ({
    name: `memory: ${String(memory)}`,
    text: yaml('version: 1', 'agents:', '  a:', `    memory: ${String(memory)}`),
    line: 4,
    message: message as RegExp,
  })),
  {
    name: 'a bad memory size in defaults, reported once',
    text: yaml('version: 1', 'defaults:', '  memory: 1k', 'agents: { a: {}, b: {} }'),
    line: 3,
    message: /^defaults\.memory: must be at least 6m/,
  },
  {
    name: 'zero cpus',
    text: yaml('version: 1', 'agents:', '  a: { cpus: 0 }'),
    line: 3,
    message: /^agents\.a\.cpus: must be at least 0.01, got 0$/,
  },
  {
    name: 'too many cpus',
    text: yaml('version: 1', 'agents:', '  a: { cpus: 2048 }'),
    line: 3,
    message: /^agents\.a\.cpus: must be at most 1024/,
  },
  {
    name: 'zero pids',
    text: yaml('version: 1', 'agents:', '  a: { pids: 0 }'),
    line: 3,
    message: /^agents\.a\.pids: must be at least 1, got 0$/,
  },
  ...['../x', 'a/b', 'A', 'x'.repeat(64), '-a', '"1 2"'].map((id) => ({
    name: `the agent id ${id}`,
    text: yaml('version: 1', 'agents:', '  ok: {}', `  ${id}: {}`),
    line: 4,
    message: /^agents: invalid agent id ".*": use lower-case letters/,
  })),
  {
    name: 'a bad project name',
    text: yaml('version: 1', 'project: My Project'),
    line: 2,
    message: /^project: invalid project name "My Project"/,
  },
  {
    name: 'a bad name prefix',
    text: yaml('version: 1', 'namePrefix: "bad/"'),
    line: 2,
    message: /^namePrefix: invalid name prefix "bad\/"/,
  },
  {
    name: 'replicas: 0',
    text: yaml('version: 1', 'agents:', '  worker: { replicas: 0 }'),
    line: 3,
    message: /^agents\.worker\.replicas: must be at least 1, got 0$/,
  },
  {
    name: 'a replica clashing with a declared agent',
    text: yaml('version: 1', 'agents:', '  worker-2: {}', '  worker: { replicas: 3 }'),
    line: 4,
    message: /^agents: "worker" \(replicas: 3\) expands to "worker-2", which is also declared at line 3$/,
  },
  {
    name: 'replicas of two keys clashing',
    text: yaml('version: 1', 'agents:', '  a: { replicas: 11 }', '  a-1: { replicas: 2 }', '  a-1-1: {}'),
    line: 4,
    message: /expands to "a-1-1", which is also declared at line 5/,
  },
  {
    name: 'a replica id that is too long',
    text: yaml('version: 1', 'agents:', `  ${'w'.repeat(62)}: { replicas: 2 }`),
    line: 3,
    message: /expands to invalid agent id "w+-1"/,
  },
  {
    name: 'a ulimit with soft above hard',
    text: yaml('version: 1', 'agents:', '  a:', '    ulimits:', '      nofile: { soft: 4096, hard: 1024 }'),
    line: 5,
    message: /^agents\.a\.ulimits\.nofile\.soft: soft limit 4096 is above the hard limit 1024$/,
  },
  {
    name: 'an unknown ulimit',
    text: yaml('version: 1', 'agents:', '  a:', '    ulimits: { openfiles: 10 }'),
    line: 4,
    message: /^agents\.a\.ulimits: unknown ulimit "openfiles": expected one of core, cpu/,
  },
  {
    name: 'an incomplete ulimit',
    text: yaml('version: 1', 'agents:', '  a:', '    ulimits:', '      nofile: { soft: 10 }'),
    line: 5,
    message: /^agents\.a\.ulimits\.nofile: missing required field "hard"$/,
  },
  ...['SYS_ADMIN', 'cap_net_admin', 'sys_ptrace'].map((cap) => ({
    name: `adding ${cap}`,
    text: yaml('version: 1', 'agents:', '  a:', '    capabilities:', `      add: [CHOWN, ${cap}]`),
    line: 5,
    message: new RegExp(
      `^agents\\.a\\.capabilities\\.add\\[1\\]: capability ${cap.toUpperCase().replace('CAP_', '')} cannot be added: it is not in Docker's default set`,
    ),
  })),
  {
    name: 'adding ALL',
    text: yaml('version: 1', 'agents:', '  a: { capabilities: { add: [ALL] } }'),
    line: 3,
    message: /cannot add ALL capabilities: only Docker's default capabilities may be added \(AUDIT_WRITE, /,
  },
  {
    name: 'an unknown capability',
    text: yaml('version: 1', 'agents:', '  a: { capabilities: { drop: [ALL, NET_RAWW] } }'),
    line: 3,
    message: /^agents\.a\.capabilities\.drop\[1\]: unknown capability "NET_RAWW"$/,
  },
  {
    name: 'setting AGENT_ID',
    text: yaml('version: 1', 'agents:', '  a:', '    env:', '      AGENT_ID: other'),
    line: 5,
    message: /^agents\.a\.env: AGENT_ID is set by agentctl and cannot be overridden$/,
  },
  {
    name: 'setting AGENT_WORK_DIR in defaults',
    text: yaml('version: 1', 'defaults:', '  env: { AGENT_WORK_DIR: /tmp }'),
    line: 3,
    message: /^defaults\.env: AGENT_WORK_DIR is set by agentctl/,
  },
  {
    name: 'a bad variable name',
    text: yaml('version: 1', 'agents:', '  a: { env: { 1X: y } }'),
    line: 3,
    message: /^agents\.a\.env: invalid variable name "1X"/,
  },
  {
    name: 'a variable with no value',
    text: yaml('version: 1', 'agents:', '  a:', '    env:', '      X:'),
    line: 5,
    message:
      /^agents\.a\.env\.X: expected a string, a number, a boolean or a secret reference \(\{ fromEnv: NAME \} or \{ fromFile: PATH \}\), got an empty value$/,
  },
  {
    name: 'a secret reference with both sources',
    text: yaml('version: 1', 'agents:', '  a:', '    env:', '      X: { fromEnv: A, fromFile: ./b }'),
    line: 5,
    message:
      /^agents\.a\.env\.X: a secret reference is \{ fromEnv: NAME \} or \{ fromFile: PATH \}, exactly one of them$/,
  },
  {
    name: 'a secret reference of an unknown kind',
    text: yaml('version: 1', 'agents:', '  a:', '    env:', '      X: { fromVault: a }'),
    line: 5,
    message:
      /^agents\.a\.env\.X: unknown field "fromVault" \(a secret reference is \{ fromEnv: NAME \} or \{ fromFile: PATH \}\)$/,
  },
  {
    name: 'a fromEnv that is not a variable name',
    text: yaml('version: 1', 'agents:', '  a:', '    env:', '      X: { fromEnv: "A-B" }'),
    line: 5,
    message: /^agents\.a\.env\.X\.fromEnv: "A-B" is not valid/,
  },
  {
    name: 'a reserved label',
    text: yaml('version: 1', 'agents:', '  a: { labels: { agentctl.project: other } }'),
    line: 3,
    message: /^agents\.a\.labels: label "agentctl\.project" is reserved/,
  },
  ...[
    ['/mnt', /a tmpfs cannot be mounted on \/mnt: \/mnt holds the agent's working directory/],
    ['/mnt/cache', /a tmpfs cannot be mounted on \/mnt\/cache/],
    ['/', /a tmpfs cannot be mounted over \//],
    ['tmp', /tmpfs path "tmp" must be absolute/],
    ['/tmp/../etc', /tmpfs path "\/tmp\/..\/etc" is not normalized: write "\/etc"/],
    ['/tmp/', /is not normalized: write "\/tmp"/],
  ].map(([path, message]) => ({
    name: `a tmpfs on ${String(path)}`,
    text: yaml('version: 1', 'agents:', '  a:', '    tmpfs:', `      ${String(path)}: 10m`),
    line: 5,
    message: message as RegExp,
  })),
  {
    name: 'a tmpfs of size 0',
    text: yaml('version: 1', 'agents:', '  a:', '    tmpfs:', '      /tmp/agent: 0'),
    line: 5,
    message:
      /^agents\.a\.tmpfs\["\/tmp\/agent"\]: must be at least 1 \(a tmpfs of size 0 would have no limit\), got 0$/,
  },
  {
    name: "another container's network",
    text: yaml('version: 1', 'agents:', '  a:', '    network: container:db'),
    line: 4,
    message:
      /^agents\.a\.network: sharing another container's network namespace \("container:db"\) is not allowed$/,
  },
  {
    name: 'an unknown restart policy',
    text: yaml('version: 1', 'agents:', '  a: { restart: sometimes }'),
    line: 3,
    message: /^agents\.a\.restart: expected one of no, always, unless-stopped, on-failure, got "sometimes"$/,
  },
  {
    name: 'logs without a driver',
    text: yaml('version: 1', 'agents:', '  a:', '    logs: { options: { max-size: 1m } }'),
    line: 4,
    message: /^agents\.a\.logs: missing required field "driver"$/,
  },
  {
    name: 'an empty command',
    text: yaml('version: 1', 'agents:', '  a: { command: [] }'),
    line: 3,
    message: /^agents\.a\.command: must not be empty$/,
  },
  {
    name: 'a YAML merge key',
    text: yaml('version: 1', 'agents:', '  a:', '    <<: { memory: 1g }'),
    line: 4,
    message:
      /^agents\.a: unknown field "<<" \(YAML merge keys are not supported; put shared settings under defaults\)$/,
  },
  {
    name: 'a field named like an Object.prototype property',
    text: yaml('version: 1', 'agents:', '  a: { constructor: 1, __proto__: 2 }'),
    line: 3,
    message: /^agents\.a: unknown field "__proto__"$/,
  },
  {
    name: 'an empty image',
    text: yaml('version: 1', 'agents:', '  a: { image: "" }'),
    line: 3,
    message: /^agents\.a\.image: must not be empty$/,
  },
];

describe('problems', () => {
  it.each(BAD)('$name is a config error at its line', ({ text, line, message }) => {
    const problems = problemsOf(() => parse(text));
    for (const problem of problems) expect(problem).toMatch(/^\/srv\/demo\/agents\.yaml:\d+:\d+: \S/);
    const atLine = problems.filter((p) => p.startsWith(`${FILE}:${line}:`));
    expect(atLine, problems.join('\n')).not.toEqual([]);
    expect(
      atLine.map((p) => p.replace(/^[^:]+:\d+:\d+: /, '')).some((m) => message.test(m)),
      problems.join('\n'),
    ).toBe(true);
  });

  it('are all collected, in file order, one line each', () => {
    const problems = problemsOf(() =>
      parse(
        yaml(
          'version: 1',
          'agents:',
          '  b:',
          '    memory: lots',
          '    privileged: true',
          '  ../x: {}',
          '  a:',
          '    ulimits: { nofile: { soft: 2, hard: 1 } }',
          '    capabilities: { add: [SYS_ADMIN] }',
        ),
      ),
    );
    expect(problems.map((p) => p.split(': ')[0])).toEqual([
      `${FILE}:4:13`,
      `${FILE}:5:5`,
      `${FILE}:6:3`,
      `${FILE}:8:32`,
      `${FILE}:9:27`,
    ]);
    for (const problem of problems) expect(problem).not.toContain('\n');
  });

  it('point at the key of an agent with no value when its value is wrong', () => {
    const problems = problemsOf(() => parse(yaml('version: 1', 'agents:', '  a:', '    memory:')));
    expect(problems).toEqual([
      `${FILE}:4:5: agents.a.memory: expected a size like 512m or 2g, got an empty value`,
    ]);
  });

  it('stop a YAML alias bomb quickly', () => {
    const lines = ['version: 1', 'x-lol: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const next = String.fromCharCode(97 + i);
      lines.push(`x-${next}: &${next} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const started = Date.now();
    const problems = problemsOf(() => parse(yaml(...lines)));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(problems).toEqual([expect.stringMatching(/^\/srv\/demo\/agents\.yaml:3:\d+: too many aliases/)]);
  });

  it('keep user keys that look like Object.prototype properties as plain data', () => {
    const state = parse(yaml('version: 1', 'agents:', '  constructor:', '    env: { __proto__: x }'));
    expect(Object.getOwnPropertyDescriptor(agent(state, 'constructor').env, '__proto__')?.value).toBe('x');
  });

  it('allow a few aliases', () => {
    const state = parse(yaml('version: 1', 'agents:', '  a: &base { memory: 1g }', '  b: *base'));
    expect(agent(state, 'b').memoryBytes).toBe(GiB);
  });
});

describe('loadConfig', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'agentctl-config-'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function writeConfig(dir: string, text: string, name = 'agents.yaml'): Promise<string> {
    await mkdir(join(root, dir), { recursive: true });
    const file = join(root, dir, name);
    await writeFile(file, text);
    return file;
  }

  it('reads a file relative to cwd and names the project after its directory', async () => {
    const file = await writeConfig('My Fleet_2', yaml('version: 1', 'agents: { a: {} }'));
    const state = await loadConfig('My Fleet_2/agents.yaml', { cwd: root });
    expect(state.file).toBe(file);
    expect(state.project).toBe('my-fleet_2');
    expect(state.runtimeDir).toBe(join(root, 'My Fleet_2', 'evanai_runtime'));
    expect(state.positions.a?.file).toBe(file);
  });

  it('shortens and cleans the default project name', async () => {
    const dir = `.${'X'.repeat(70)}`;
    await writeConfig(dir, yaml('version: 1', 'agents: {}'));
    const state = await loadConfig(join(root, dir, 'agents.yaml'));
    expect(state.project).toBe('x'.repeat(63));
  });

  it('reports problems with the absolute path of the file', async () => {
    const file = await writeConfig('broken', yaml('version: 1', 'agents:', '  a: { memory: lots }'));
    const problems = await asyncProblemsOf(() => loadConfig(file));
    expect(problems).toEqual([`${file}:3:16: agents.a.memory: expected a size like 512m or 2g, got "lots"`]);
  });

  it('reads stdin for -', async () => {
    const cwd = join(root, 'Piped');
    await mkdir(cwd, { recursive: true });
    const state = await loadConfig('-', {
      cwd,
      readStdin: async () => yaml('version: 1', 'agents: { a: {} }'),
    });
    expect(state).toMatchObject({
      file: '<stdin>',
      project: 'piped',
      runtimeDir: join(cwd, 'evanai_runtime'),
    });
    const problems = await asyncProblemsOf(() =>
      loadConfig('-', { cwd, readStdin: async () => 'version: 3\nagents: {}\n' }),
    );
    expect(problems).toEqual(['<stdin>:1:10: version: must be 1, got 3']);
  });

  it('refuses a missing file, naming it', async () => {
    const problems = await asyncProblemsOf(() => loadConfig('nope.yaml', { cwd: root }));
    expect(problems).toEqual([`cannot read config file ${join(root, 'nope.yaml')}: no such file`]);
  });

  it('refuses a directory, naming it', async () => {
    await mkdir(join(root, 'a-dir'), { recursive: true });
    const problems = await asyncProblemsOf(() => loadConfig('a-dir', { cwd: root }));
    expect(problems).toEqual([
      `cannot read config file ${join(root, 'a-dir')}: it is a directory, not an agents.yaml file`,
    ]);
  });

  it.skipIf(process.getuid?.() === 0)('refuses an unreadable file, naming it', async () => {
    const file = await writeConfig('locked', yaml('version: 1'));
    await chmod(file, 0o000);
    const problems = await asyncProblemsOf(() => loadConfig(file));
    expect(problems).toEqual([`cannot read config file ${file}: permission denied`]);
  });

  it('refuses a file that is not text', async () => {
    const file = join(root, 'binary.yaml');
    await writeFile(file, Buffer.from([0x76, 0x3a, 0x20, 0xff, 0xfe, 0x0a]));
    const problems = await asyncProblemsOf(() => loadConfig(file));
    expect(problems).toEqual([`${file} is not UTF-8 text`]);
  });
});
