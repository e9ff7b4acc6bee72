/**
 * `validate` and `diff` of a file with `engines:` through the built binary: the README's example is
 * valid as written, mistakes are reported at their file:line:col, and diff names each action's engine
 * and the engine it could not reach. The local engine (the machine's) is only listed, for a project
 * name nothing else uses; the other engine is a socket that does not exist.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { TEST_IMAGE } from '../helpers/docker.js';

/** The first ```yaml block of the README's section on several engines. */
function readmeExample(): string {
  const readme = readFileSync(path.resolve('README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Several engines from one file'));
  const m = /```yaml\n([\s\S]*?)```/.exec(section);
  if (!m?.[1]) throw new Error('no yaml example in the README section on engines');
  return m[1];
}

describe('validate and diff of a file with engines: (built binary)', () => {
  let dir: string;
  const project = `i13-engcli-${process.pid}`;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-engcli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    return name;
  };

  it("the README's example is valid as written, its replicas expanded", async () => {
    const r = await agentctlAsync(['validate', '-f', write('readme.yaml', readmeExample()), '-o', 'json'], {
      cwd: dir,
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const v = JSON.parse(r.stdout) as { valid: boolean; project: string; agents: string[] };
    expect(v).toMatchObject({ valid: true, project: 'lab' });
    expect(v.agents).toEqual(['coder', 'reviewer', 'trainer-1', 'trainer-2']);
  });

  it.each([
    [
      'an unknown engine name, with the closest one',
      [
        'engines:',
        '  gpu-box: { host: "ssh://ops@gpu-box", runtimeDir: /srv/agents }',
        'agents:',
        '  a: { engine: gpu-bx }',
      ],
      /bad\.yaml:5:\d+: .*unknown engine "gpu-bx"; did you mean "gpu-box"\?/,
    ],
    [
      'a relative runtimeDir for another engine',
      ['engines:', '  b: { host: "unix:///run/b.sock", runtimeDir: ./rt }', 'agents:', '  a: { engine: b }'],
      /bad\.yaml:3:\d+: engines\.b\.runtimeDir: "\.\/rt" is not valid: it must match \^\//,
    ],
    [
      'settings for local',
      ['engines:', '  local: { host: "unix:///run/x.sock" }', 'agents:', '  a: {}'],
      /bad\.yaml:3:\d+: .*the local engine is DOCKER_HOST .* it takes no settings/,
    ],
    [
      'identityFile on an engine that is not ssh',
      [
        'engines:',
        '  b: { host: "unix:///run/b.sock", runtimeDir: /srv/b, identityFile: ./key }',
        'agents:',
        '  a: { engine: b }',
      ],
      /bad\.yaml:3:\d+: .*identityFile is for ssh:\/\/ engines/,
    ],
  ])('validate reports %s at its position, exit 1', async (_what, lines, message) => {
    const r = await agentctlAsync(
      ['validate', '-f', write('bad.yaml', ['version: 1', ...lines, ''].join('\n'))],
      {
        cwd: dir,
      },
    );
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(message);
  });

  it("diff plans each engine's part and names the engine it cannot reach, exit 1", async () => {
    const file = write(
      'agents.yaml',
      [
        'version: 1',
        `project: ${project}`,
        'runtimeDir: ./rt',
        'engines:',
        `  lab: { host: "unix://${dir}/no-such.sock", runtimeDir: ${dir}/lab-rt }`,
        'defaults:',
        `  image: ${TEST_IMAGE}`,
        '  network: none',
        'agents:',
        '  here: {}',
        '  there: { engine: lab }',
        '',
      ].join('\n'),
    );
    const text = await agentctlAsync(['diff', '-f', file], { cwd: dir });
    expect(text.status, text.stdout + text.stderr).toBe(1);
    expect(text.stdout + text.stderr).toMatch(/engine lab/);
    expect(text.stdout + text.stderr).toMatch(/there/);
    const json = await agentctlAsync(['diff', '-f', file, '-o', 'json'], { cwd: dir });
    expect(json.status).toBe(1);
    const plan = JSON.parse(json.stdout) as {
      actions: { kind: string; agent: string; engine: string }[];
      unreachable: { engine: string; agents: string[]; message: string }[];
    };
    expect(plan.actions.map((a) => `${a.engine}:${a.kind}:${a.agent}`)).toEqual(['local:create:here']);
    expect(plan.unreachable.map((u) => [u.engine, u.agents])).toEqual([['lab', ['there']]]);
    expect(plan.unreachable[0]?.message).toMatch(/engine lab \(unix:\/\/.*no-such\.sock\): cannot connect/);
  }, 60_000);
});
