/**
 * ps, down and cleanup of a file with several engines, through the built binary, against two private
 * dockerds (test/helpers/two-engines.ts): DOCKER_HOST is dockerd A (`local`), engine `b` is dockerd B.
 * Asserts what each engine holds (docker ps / inspect there) and the directories on disk.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { reconcileFleet } from '../../src/fleet/reconcile.js';
import { reconcile } from '../../src/ops/reconcile.js';
import { agentctl } from '../helpers/cli.js';
import { TEST_IMAGE } from '../helpers/docker.js';
import { twoEngines } from '../helpers/two-engines.js';

const PROJECT = `i13-ops-${process.pid}`;

describe('ps, down and cleanup over several engines (real dockerds, built binary)', () => {
  const t = twoEngines('i13o');
  beforeAll(t.start, 180_000);
  afterAll(t.cleanup, 120_000);
  const { rtA, rtB, workDir } = t;
  const gone = () => `  gone: { host: "unix://${t.dir}/nowhere.sock", runtimeDir: ${t.dir}/rt-gone }`;

  /** Writes the file (agents lines, extra engines) and runs the binary on it with DOCKER_HOST = A. */
  function run(args: string[], agents: string[], extraEngines: string[] = []) {
    writeFileSync(path.join(t.dir, 'agents.yaml'), t.fileText(PROJECT, agents, extraEngines));
    return agentctl([...args, '-f', 'agents.yaml'], { cwd: t.dir, env: { DOCKER_HOST: t.a.host } });
  }
  const json = <T>(stdout: string) => JSON.parse(stdout) as T;
  type Row = { agent: string; engine: string; state: string; homeEngine: string | null; stray: boolean };

  it('ps lists every engine: an ENGINE column, strays named, an unreachable engine one line and exit 1', async () => {
    expect(
      (await reconcileFleet(t.file(PROJECT, ['  x: {}', '  y: { engine: b }']), { port: t.localPort })).report
        .ok,
    ).toBe(true);
    // A stray copy of y on A, as a one-engine file would make it.
    const single = parseConfig(
      [
        'version: 1',
        `project: ${PROJECT}`,
        `runtimeDir: ${rtA()}`,
        'agents:',
        `  y: { image: ${TEST_IMAGE}, command: [sleep, "3600"], network: none, user: "0" }`,
      ].join('\n'),
      { file: path.join(t.dir, 'one.yaml'), baseDir: t.dir, defaultProject: 'x' },
    );
    expect((await reconcile(single, { port: t.localPort, prune: false })).report.ok).toBe(true);

    const agents = ['  x: {}', '  y: { engine: b }', '  z: { engine: b }'];
    const j = run(['ps', '-o', 'json'], agents);
    expect(j.status, j.stderr).toBe(0);
    expect(json<Row[]>(j.stdout).map((r) => [r.agent, r.engine, r.state, r.homeEngine, r.stray])).toEqual([
      ['x', 'local', 'running', 'local', false],
      ['y', 'b', 'running', 'b', false],
      ['y', 'local', 'running', 'b', true],
      ['z', 'b', 'missing', 'b', false],
    ]);
    const text = run(['ps'], agents);
    expect(text.status, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^AGENT\s+ENGINE\s+CONTAINER\s+STATE\s+IMAGE/);
    expect(lines[3]).toMatch(/^y \(stray: the file puts it on engine b\)\s+local\s+claude-agent-y\s+running/);

    const withGone = run(['ps', '-o', 'json'], [...agents, '  w: { engine: gone }'], [gone()]);
    expect(withGone.status).toBe(1);
    expect(withGone.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(`^agentctl: engine gone \\(unix://${t.dir}/nowhere\\.sock\\): .*; agent w not looked at$`),
      ),
    ]);
    const rows = json<(Row & { unreachable: string | null })[]>(withGone.stdout);
    expect(rows.find((r) => r.agent === 'w')).toMatchObject({ engine: 'gone', state: 'unknown' });
    expect(rows.find((r) => r.agent === 'w')?.unreachable).toMatch(/nowhere\.sock/);
    expect(rows.filter((r) => r.agent !== 'w').map((r) => r.state)).toEqual([
      'running',
      'running',
      'running',
      'missing',
    ]);
    const gonetext = run(['ps', '--state', 'unknown'], [...agents, '  w: { engine: gone }'], [gone()]);
    expect(gonetext.stdout).toMatch(/^w\s+gone\s+claude-agent-w\s+unknown \(engine unreachable\)/m);
  }, 180_000);

  it("down --data removes every engine's containers and data on each host, keeping what any engine of that host mounts", async () => {
    const agents = ['  x: {}', '  y: { engine: b }', '  w: { engine: b }'];
    expect((await reconcileFleet(t.file(PROJECT, agents), { port: t.localPort })).report.ok).toBe(true);
    for (const [rt, id] of [
      [rtA(), 'x'],
      [rtB(), 'y'],
      [rtB(), 'w'],
    ] as const)
      writeFileSync(path.join(workDir(rt, id), 'data.txt'), id);
    // A container of ANOTHER engine on this host (A) mounts b's directory of w: w's data must stay.
    const foreign = `i13o-foreign-${process.pid}`;
    t.a.docker(
      'run',
      '-d',
      '--name',
      foreign,
      '--network',
      'none',
      '-v',
      `${workDir(rtB(), 'w')}:/data`,
      TEST_IMAGE,
      'sleep',
      '3600',
    );

    const dry = run(['down', '--data', '--dry-run'], agents);
    expect(dry.status, dry.stderr).toBe(1); // w's data would be kept
    expect(dry.stdout.split('\n').slice(0, 8)).toEqual([
      'engine b:',
      '  would remove claude-agent-w',
      '  would remove claude-agent-y',
      `  would delete ${workDir(rtB(), 'y')}`,
      `  would keep ${workDir(rtB(), 'w')}: still mounted by container ${foreign} on engine local`,
      'engine local:',
      '  would remove claude-agent-x',
      `  would delete ${workDir(rtA(), 'x')}`,
    ]);
    expect(t.names(t.b, PROJECT)).toEqual(['claude-agent-w running', 'claude-agent-y running']);

    // An engine of this host that cannot be asked: containers go everywhere else, no data goes here.
    const blind = run(['down', '--data', '-o', 'json'], [...agents, '  z: { engine: gone }'], [gone()]);
    expect(blind.status).toBe(1);
    expect(blind.stderr).toMatch(
      /^agentctl: engine gone \(unix:\/\/.*nowhere\.sock\): .*; agent z not looked at$/m,
    );
    const check = new Ajv({ allowUnionTypes: true, strict: false }).compile(
      JSON.parse(readFileSync('schemas/output/down.json', 'utf8')) as object,
    );
    expect(check(JSON.parse(blind.stdout)), JSON.stringify(check.errors)).toBe(true);
    const out = json<{
      removed: { engine: string; container: string }[];
      removedData: string[];
      keptData: { path: string; engine: string; reason: string }[];
      unreachable: { engine: string; agents: string[] }[];
    }>(blind.stdout);
    expect(out.removed.map((r) => `${r.engine}:${r.container}`)).toEqual([
      'b:claude-agent-w',
      'b:claude-agent-y',
      'local:claude-agent-x',
    ]);
    expect(out.removedData).toEqual([]);
    expect(out.unreachable.map((u) => [u.engine, u.agents])).toEqual([['gone', ['z']]]);
    expect(out.keptData.map((k) => [k.engine, k.path])).toEqual([
      ['gone', workDir(`${t.dir}/rt-gone`, 'z')],
      ['b', workDir(rtB(), 'w')],
      ['b', workDir(rtB(), 'y')],
      ['local', workDir(rtA(), 'x')],
    ]);
    expect(out.keptData[1]?.reason).toMatch(/^engine gone on the same host could not be asked/);
    expect(t.names(t.a, PROJECT)).toEqual([]);
    expect(t.names(t.b, PROJECT)).toEqual([]);
    expect(existsSync(workDir(rtA(), 'x')) && existsSync(workDir(rtB(), 'y'))).toBe(true);

    const done = run(['down', '--data'], agents);
    expect(done.status).toBe(1); // w kept
    expect(done.stdout).toContain(`deleted ${workDir(rtB(), 'y')} on engine b\n`);
    expect(done.stdout).toContain(`deleted ${workDir(rtA(), 'x')} on engine local\n`);
    expect(done.stderr).toContain(
      `agentctl: kept ${workDir(rtB(), 'w')} on engine b: still mounted by container ${foreign} on engine local`,
    );
    expect(existsSync(workDir(rtA(), 'x'))).toBe(false);
    expect(existsSync(workDir(rtB(), 'y'))).toBe(false);
    expect(readFileSync(path.join(workDir(rtB(), 'w'), 'data.txt'), 'utf8')).toBe('w');
    t.a.docker('rm', '-f', foreign);
  }, 180_000);

  it('--migrate refuses a target directory that a container of another engine of that host mounts', async () => {
    const P = `${PROJECT}-m`;
    expect((await reconcileFleet(t.file(P, ['  v: { engine: b }']), { port: t.localPort })).report.ok).toBe(
      true,
    );
    const target = workDir(rtA(), 'v');
    mkdirSync(target, { recursive: true });
    const foreign = `i13o-mnt-${process.pid}`;
    t.b.docker(
      'run',
      '-d',
      '--name',
      foreign,
      '--network',
      'none',
      '-v',
      `${target}:/data`,
      TEST_IMAGE,
      'sleep',
      '3600',
    );
    const { report } = await reconcileFleet(t.file(P, ['  v: {}']), { port: t.localPort, migrate: true });
    expect(report.migrations?.[0]?.error).toBe(
      `its working directory on engine local, ${target}, is still mounted by container ${foreign} on engine b; nothing was moved`,
    );
    expect(t.names(t.b, P)).toEqual(['claude-agent-v running']);
    expect(t.names(t.a, P)).toEqual([]);
    t.b.docker('rm', '-f', foreign);
  }, 120_000);
});
