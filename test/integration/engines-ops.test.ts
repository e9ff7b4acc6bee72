/**
 * ps, down and cleanup of a file with several engines, through the built binary, against two private
 * dockerds (test/helpers/two-engines.ts): DOCKER_HOST is dockerd A (`local`), engine `b` is dockerd B.
 * Asserts what each engine holds (docker ps / inspect there) and the directories on disk.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { reconcileFleet } from '../../src/fleet/reconcile.js';
import { cleanup } from '../../src/ops/cleanup.js';
import { reconcile } from '../../src/ops/reconcile.js';
import { AgentManager } from '../../src/ops/agent-manager.js';
import type { DockerPort } from '../../src/docker/port.js';
import { agentctlAsync } from '../helpers/cli.js';
import { shape } from '../helpers/output-schema.js';
import { holdMount, TEST_IMAGE } from '../helpers/docker.js';
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
    return agentctlAsync([...args, '-f', 'agents.yaml'], { cwd: t.dir, env: { DOCKER_HOST: t.a.host } });
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
    const j = await run(['ps', '-o', 'json'], agents);
    expect(j.status, j.stderr).toBe(0);
    expect(json<Row[]>(j.stdout).map((r) => [r.agent, r.engine, r.state, r.homeEngine, r.stray])).toEqual([
      ['x', 'local', 'running', 'local', false],
      ['y', 'b', 'running', 'b', false],
      ['y', 'local', 'running', 'b', true],
      ['z', 'b', 'missing', 'b', false],
    ]);
    const text = await run(['ps'], agents);
    expect(text.status, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^AGENT\s+ENGINE\s+CONTAINER\s+STATE\s+IMAGE/);
    expect(lines[3]).toMatch(/^y \(stray: the file puts it on engine b\)\s+local\s+claude-agent-y\s+running/);

    const withGone = await run(['ps', '-o', 'json'], [...agents, '  w: { engine: gone }'], [gone()]);
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
    const gonetext = await run(['ps', '--state', 'unknown'], [...agents, '  w: { engine: gone }'], [gone()]);
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
    holdMount(t.a.docker, foreign, workDir(rtB(), 'w'), '/data');

    const dry = await run(['down', '--data', '--dry-run'], agents);
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
    const blind = await run(['down', '--data', '-o', 'json'], [...agents, '  z: { engine: gone }'], [gone()]);
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

    const done = await run(['down', '--data'], agents);
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
    holdMount(t.b.docker, foreign, target, '/data');
    const { report } = await reconcileFleet(t.file(P, ['  v: {}']), { port: t.localPort, migrate: true });
    expect(report.migrations?.[0]?.error).toBe(
      `its working directory on engine local, ${target}, is still mounted by container ${foreign} on engine b; nothing was moved`,
    );
    expect(t.names(t.b, P)).toEqual(['claude-agent-v running']);
    expect(t.names(t.a, P)).toEqual([]);
    t.b.docker('rm', '-f', foreign);
  }, 120_000);

  it('cleanup cleans every engine in its runtimeDir, keeps what any engine of the host mounts, and names what it could not look at', async () => {
    const P = `${PROJECT}-c`;
    const agents = ['  x: { state: stopped }', '  y: { engine: b, state: stopped }'];
    expect((await reconcileFleet(t.file(P, agents), { port: t.localPort })).report.ok).toBe(true);
    const orphan = (rt: string, id: string) => {
      mkdirSync(workDir(rt, id), { recursive: true });
      writeFileSync(path.join(workDir(rt, id), 'f'), Buffer.alloc(10_000, 1));
    };
    orphan(rtA(), 'orphan-a');
    orphan(rtB(), 'orphan-b');
    orphan(rtB(), 'held');
    // A container of the OTHER engine of this host (A) mounts b's directory `held`: it must stay.
    const foreign = `i13o-cl-${process.pid}`;
    holdMount(t.a.docker, foreign, workDir(rtB(), 'held'), '/d');
    type Out = {
      containers: { engine: string; container: string; ok: boolean }[];
      directories: { engine: string; path: string; ok: boolean }[];
      engines: { engine: string; reachable: boolean; error: string | null; freedBytes: number }[];
    };
    const cl = (extra: string[], extraEngines: string[] = []) => {
      writeFileSync(path.join(t.dir, 'agents.yaml'), t.fileText(P, agents, extraEngines));
      return agentctlAsync(['cleanup', '--older-than', '0s', ...extra, '-f', 'agents.yaml'], {
        cwd: t.dir,
        env: { DOCKER_HOST: t.a.host },
      });
    };

    const dry = await cl(['--dry-run', '-o', 'json']);
    expect(dry.status, dry.stderr).toBe(0);
    shape('cleanup')(json(dry.stdout));
    const d = json<Out>(dry.stdout);
    expect(d.containers.map((c) => `${c.engine}:${c.container}`)).toEqual([
      'b:claude-agent-y',
      'local:claude-agent-x',
    ]);
    // (Directories earlier tests of this file left are cleaned too: only this test's are looked at.)
    const ours = (r: { path: string }) => /\/(orphan-.*|held|x|y)$/.test(r.path);
    expect(d.directories.filter(ours).map((r) => `${r.engine}:${r.path}`)).toEqual([
      `b:${workDir(rtB(), 'orphan-b')}`,
      `local:${workDir(rtA(), 'orphan-a')}`,
    ]);
    expect(d.engines.map((e) => [e.engine, e.reachable, e.error])).toEqual([
      ['b', true, null],
      ['local', true, null],
    ]);
    expect(t.names(t.b, P)).toEqual(['claude-agent-y created']);

    // An engine of this host that cannot be asked: containers go on the others, no directory of the
    // host is deleted (one of its containers might mount it), and it is named; exit 1.
    const gone = `  gone: { host: "unix://${t.dir}/nowhere.sock", runtimeDir: ${t.dir}/rt-gone }`;
    const blind = await cl(['-o', 'json'], [gone]);
    expect(blind.status, blind.stderr).toBe(1);
    shape('cleanup')(json(blind.stdout));
    const b = json<Out>(blind.stdout);
    expect(b.containers.map((c) => [c.engine, c.container, c.ok])).toEqual([
      ['b', 'claude-agent-y', true],
      ['local', 'claude-agent-x', true],
    ]);
    expect(b.directories).toEqual([]);
    expect(b.engines.map((e) => [e.engine, e.reachable])).toEqual([
      ['b', true],
      ['gone', false],
      ['local', true],
    ]);
    expect(b.engines[0]?.error).toBe(
      `engine gone on the same host could not be asked whether a container of it mounts a working directory; none in ${rtB()} was looked at`,
    );
    expect(b.engines[1]?.error).toMatch(/nowhere\.sock/);
    expect(t.names(t.a, P)).toEqual([]);
    expect(t.names(t.b, P)).toEqual([]);
    expect(existsSync(workDir(rtA(), 'orphan-a')) && existsSync(workDir(rtB(), 'orphan-b'))).toBe(true);

    // Every engine answering: both orphans go, `held` and the declared agents' data stay.
    const real = await cl([]);
    expect(real.status, real.stdout + real.stderr).toBe(0);
    expect(real.stdout).toContain(`deleted ${workDir(rtB(), 'orphan-b')} on engine b (`);
    expect(real.stdout).toContain(`deleted ${workDir(rtA(), 'orphan-a')} on engine local (`);
    expect(existsSync(workDir(rtA(), 'orphan-a'))).toBe(false);
    expect(existsSync(workDir(rtB(), 'orphan-b'))).toBe(false);
    expect(readFileSync(path.join(workDir(rtB(), 'held'), 'f')).length).toBe(10_000);
    expect(existsSync(workDir(rtA(), 'x')) && existsSync(workDir(rtB(), 'y'))).toBe(true);
    t.a.docker('rm', '-f', foreign);

    // b's runtimeDir given through a symlink: refused for b (named, exit 1), local still cleaned.
    const link = path.join(t.dir, 'rt-b-link');
    symlinkSync(rtB(), link);
    orphan(rtA(), 'orphan-a2');
    orphan(rtB(), 'orphan-b2');
    writeFileSync(
      path.join(t.dir, 'agents.yaml'),
      t.fileText(P, agents).replace(`runtimeDir: ${rtB()}`, `runtimeDir: ${link}`),
    );
    const sym = await agentctlAsync(['cleanup', '--older-than', '0s', '-f', 'agents.yaml'], {
      cwd: t.dir,
      env: { DOCKER_HOST: t.a.host },
    });
    expect(sym.status, sym.stdout + sym.stderr).toBe(1);
    expect(sym.stderr).toBe(
      `agentctl: engine b: ${link} is a symlink; agentctl refuses to follow it (data must stay inside ${link}); its working directories were not looked at\n`,
    );
    expect(sym.stdout).toContain(`deleted ${workDir(rtA(), 'orphan-a2')} on engine local (`);
    expect(existsSync(workDir(rtA(), 'orphan-a2'))).toBe(false);
    expect(existsSync(workDir(rtB(), 'orphan-b2'))).toBe(true);
  }, 180_000);

  it('cleanup reads the mounts of a host a fixed number of times, however many directories it deletes', async () => {
    const P = `${PROJECT}-n`;
    for (let i = 0; i < 8; i++) {
      mkdirSync(workDir(rtA(), `n${i}`), { recursive: true });
      mkdirSync(workDir(rtB(), `n${i}`), { recursive: true });
    }
    // Every list of all containers (a mount snapshot) that local's engine (A) is asked for.
    let snapshots = 0;
    const port = new Proxy(t.localPort as DockerPort, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (prop === 'listContainers' && Object.keys(args[0] as object).length === 0) snapshots++;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const r = await cleanup({
      port,
      desired: t.file(P, ['  x: {}']),
      runtimeDir: rtA(),
      olderThanMs: 0,
      project: P,
      now: Date.now() + 60_000,
    });
    expect(r.directories.filter((d) => d.agent.startsWith('n') && d.ok).length).toBe(16);
    // When the run began, under the locks, and right before the host's directories were deleted.
    expect(snapshots).toBe(3);
    for (let i = 0; i < 8; i++) expect(existsSync(workDir(rtB(), `n${i}`))).toBe(false);
  }, 120_000);

  it('refuses a file naming one engine twice (local and also: the same dockerd), in every command, before changing anything', async () => {
    const P = `${PROJECT}-dup`;
    // dockerd A is `local` (DOCKER_HOST) and, by its socket, `also`: /info gives the same ID for both.
    const also = `  also: { host: "${t.a.host}", runtimeDir: ${t.dir}/rt-also }`;
    writeFileSync(
      path.join(t.dir, 'agents.yaml'),
      t.fileText(P, ['  x: {}', '  y: { engine: also }'], [also]),
    );
    const id = t.a.docker('info', '-f', '{{.ID}} on {{.Name}}, data root {{.DockerRootDir}}');
    const same = `engines also (${t.a.host}) and local (DOCKER_HOST) are the same engine (ID ${id}): each of its containers would be seen twice`;
    for (const cmd of [
      ['apply'],
      ['diff'],
      ['ps'],
      ['down', '--data'],
      ['cleanup', '--older-than', '0s'],
      ['stats', '--no-stream'],
      ['stats', '--no-stream', '--engine', 'also'],
      ['exec', '--engine', 'also', 'y', '--', 'true'],
      ['exec', 'x', '--', 'true'],
      ['logs', '--engine', 'also', 'y'],
      ['inspect', 'y'],
      ['rm', '--engine', 'also', 'y', '--data'],
      ['mcp', '--project', P],
    ]) {
      const r = await agentctlAsync([...cmd, '--file', 'agents.yaml'], {
        cwd: t.dir,
        env: { DOCKER_HOST: t.a.host },
      });
      expect(r.status, `${cmd.join(' ')}: ${r.stdout}${r.stderr}`).toBe(1);
      expect(r.stderr, cmd.join(' ')).toContain(same);
    }
    // The library's door to a file: refused when it is attached, before anything is used or created.
    await expect(
      AgentManager.fromFile(path.join(t.dir, 'agents.yaml'), { port: t.localPort }),
    ).rejects.toThrow(same);
    expect(t.names(t.a, P)).toEqual([]);
    expect(t.names(t.b, P)).toEqual([]);
  }, 180_000);
});
