/**
 * Several engines from one file, against real dockerds this test starts (each in its own network
 * namespace, with its own socket, data root and exec root): `local` is dockerd A (passed as the local
 * port, so the machine's engine is never touched), engine `b` is dockerd B at its unix socket, with its
 * own runtimeDir. Asserts what each engine holds (docker inspect) and the files on disk.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { diffFleet, reconcileFleet } from '../../src/fleet/reconcile.js';
import { reconcile } from '../../src/ops/reconcile.js';
import { AgentctlError } from '../../src/errors.js';
import { TEST_IMAGE } from '../helpers/docker.js';
import type { TestDockerd } from '../helpers/test-dockerd.js';
import { twoEngines } from '../helpers/two-engines.js';

const PROJECT = `i13-engines-${process.pid}`;

describe('several engines from one file (real dockerds)', () => {
  const t = twoEngines('i13');
  beforeAll(t.start, 180_000);
  afterAll(t.cleanup, 120_000);
  const { rtA, rtB, workDir } = t;
  const file = (agents: string[], extraEngines: string[] = []) => t.file(PROJECT, agents, extraEngines);
  const names = (e: TestDockerd) => t.names(e, PROJECT);
  const mountOf = (e: TestDockerd, name: string) => t.mountOf(e, name);

  it('puts each agent on its engine, with its working directory under that engine runtimeDir', async () => {
    const { report } = await reconcileFleet(file(['  x: {}', '  y: { engine: b }']), { port: t.localPort });
    expect(report.ok).toBe(true);
    expect(
      report.results.map((r) => `${r.action.engine}:${r.action.kind}:${r.action.agentId}`).sort(),
    ).toEqual(['b:create:y', 'local:create:x']);
    expect(names(t.a)).toEqual(['claude-agent-x running']);
    expect(names(t.b)).toEqual(['claude-agent-y running']);
    expect(mountOf(t.a, 'claude-agent-x')).toBe(workDir(rtA(), 'x'));
    expect(mountOf(t.b, 'claude-agent-y')).toBe(workDir(rtB(), 'y'));
    expect(existsSync(workDir(rtB(), 'y'))).toBe(true);
    expect(existsSync(workDir(rtA(), 'y'))).toBe(false);
    const again = await diffFleet(file(['  x: {}', '  y: { engine: b }']), { port: t.localPort });
    expect(again.plan.actions).toEqual([]);
    expect(again.plan.unchanged).toEqual(['x', 'y']);
  }, 120_000);

  it('finds a stray copy on another engine next to the real one and removes it, keeping its data', async () => {
    // A copy of y on A, as a one-engine file would make it.
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
    writeFileSync(path.join(workDir(rtA(), 'y'), 'stray-data'), 'keep me');
    expect(names(t.a)).toEqual(['claude-agent-x running', 'claude-agent-y running']);

    const d = await diffFleet(file(['  x: {}', '  y: { engine: b }']), { port: t.localPort });
    expect(d.plan.actions.map((x) => `${x.engine}:${x.kind}:${x.agentId}`)).toEqual(['local:remove:y']);
    expect(d.plan.actions[0]?.cause).toMatch(/^stray copy: agent y runs on engine b/);
    const { report } = await reconcileFleet(file(['  x: {}', '  y: { engine: b }']), { port: t.localPort });
    expect(report.ok).toBe(true);
    expect(names(t.a)).toEqual(['claude-agent-x running']);
    expect(names(t.b)).toEqual(['claude-agent-y running']);
    expect(readFileSync(path.join(workDir(rtA(), 'y'), 'stray-data'), 'utf8')).toBe('keep me');
  }, 120_000);

  it('refuses a move without --migrate, changing nothing; with it, moves the data and verifies it', async () => {
    writeFileSync(path.join(workDir(rtB(), 'y'), 'notes.txt'), 'moved with the agent\n');
    const moved = file(['  x: {}', '  y: {}']);
    const d = await diffFleet(moved, { port: t.localPort });
    expect(d.plan.conflicts.map((c) => c.message)).toEqual([
      expect.stringMatching(
        /^agent y is on engine b, but the file puts it on engine local: moving it copies its \/mnt/,
      ),
    ]);
    await expect(reconcileFleet(moved, { port: t.localPort })).rejects.toThrow(AgentctlError);
    expect(names(t.a)).toEqual(['claude-agent-x running']);
    expect(names(t.b)).toEqual(['claude-agent-y running']);

    // The stray copy's data (kept) is where y would land: the move is refused, nothing changes.
    const refused = await reconcileFleet(moved, { port: t.localPort, migrate: true });
    expect(refused.report.ok).toBe(false);
    expect(refused.report.migrations?.[0]?.error).toMatch(/already holds data; nothing was moved/);
    expect(names(t.a)).toEqual(['claude-agent-x running']);
    expect(names(t.b)).toEqual(['claude-agent-y running']);
    rmSync(workDir(rtA(), 'y'), { recursive: true });

    const { report } = await reconcileFleet(moved, { port: t.localPort, migrate: true });
    expect(report.migrations?.map((m) => [m.migration.agentId, m.ok, m.error])).toEqual([
      ['y', true, undefined],
    ]);
    expect(report.migrations?.[0]?.steps).toEqual([
      'stopped claude-agent-y on engine b',
      expect.stringMatching(/^created claude-agent-y-next-[0-9a-f]{6} on engine local \(not started\)$/),
      'copied /mnt to engine local: 2 entries, 21 bytes',
      'verified: same names, types, sizes and content on both engines',
      'started claude-agent-y on engine local',
      `removed claude-agent-y from engine b; its data stays on that host in ${workDir(rtB(), 'y')}`,
    ]);
    expect(names(t.a)).toEqual(['claude-agent-x running', 'claude-agent-y running']);
    expect(names(t.b)).toEqual([]);
    expect(mountOf(t.a, 'claude-agent-y')).toBe(workDir(rtA(), 'y'));
    expect(readFileSync(path.join(workDir(rtA(), 'y'), 'notes.txt'), 'utf8')).toBe('moved with the agent\n');
    expect(t.a.docker('exec', 'claude-agent-y', 'cat', '/mnt/notes.txt')).toBe('moved with the agent');
    // The source's data stays on its host.
    expect(readFileSync(path.join(workDir(rtB(), 'y'), 'notes.txt'), 'utf8')).toBe('moved with the agent\n');
    expect((await diffFleet(moved, { port: t.localPort })).plan.actions).toEqual([]);
  }, 180_000);

  it('an unreachable engine withholds only its own agents, and the run says so', async () => {
    const gone = `  gone: { host: "unix://${t.dir}/nowhere.sock", runtimeDir: /srv/none }`;
    const f = file(['  x: {}', '  y: {}', '  w: { engine: b }', '  z: { engine: gone }'], [gone]);
    const { plan, report } = await reconcileFleet(f, { port: t.localPort });
    expect(plan.unreachable?.map((u) => [u.engine, u.agents])).toEqual([['gone', ['z']]]);
    expect(report.ok).toBe(false);
    expect(names(t.b)).toEqual(['claude-agent-w running']);
    expect(names(t.a)).toEqual(['claude-agent-x running', 'claude-agent-y running']);
  }, 120_000);
});
