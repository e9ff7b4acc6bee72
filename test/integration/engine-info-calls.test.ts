/**
 * How often each command of a file with two engines asks each engine's /info: at most once. At 1000
 * agents the engine takes 100-800 ms to answer it, so a second ask is that much more of every run.
 * Counted on the wire (test/helpers/counting-socket.ts, in front of two private dockerds), whatever
 * layer asks; the local port is a new connection for each command, as a new process would have.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { DockerEngine } from '../../src/docker/engine.js';
import { diffFleet, reconcileFleet } from '../../src/fleet/reconcile.js';
import { cleanup } from '../../src/ops/cleanup.js';
import { downFleet } from '../../src/ops/down-fleet.js';
import { inspectAgent } from '../../src/ops/inspect.js';
import { removeAgents } from '../../src/ops/lifecycle.js';
import { psReport } from '../../src/ops/ps.js';
import { StatsSampler } from '../../src/ops/stats.js';
import type { DesiredState } from '../../src/types.js';
import { countingSocket } from '../helpers/counting-socket.js';
import { twoEngines } from '../helpers/two-engines.js';

const P = `i13-info-${process.pid}`;

describe('each command asks each engine /info at most once (two real dockerds, counted on the wire)', () => {
  const t = twoEngines('i13n');
  beforeAll(t.start, 180_000);
  afterAll(t.cleanup, 120_000);
  let n = 0;

  /**
   * The /info requests each engine saw while `run` ran, as a new process would run it: a new local
   * connection, engine b at an address not opened before (so a new connection pool), the file loaded anew.
   */
  async function asked(run: (port: DockerEngine, file: DesiredState) => Promise<unknown>) {
    n++;
    const a = await countingSocket(path.join(t.dir, `a${n}.sock`), t.a.host.slice('unix://'.length));
    const b = await countingSocket(path.join(t.dir, `b${n}.sock`), t.b.host.slice('unix://'.length));
    try {
      const file = parseConfig(t.fileText(P, ['  x: {}', '  y: { engine: b }']).replace(t.b.host, b.host), {
        file: path.join(t.dir, 'agents.yaml'),
        baseDir: t.dir,
        defaultProject: 'x',
      });
      await run(new DockerEngine({ socketPath: a.host.slice('unix://'.length) }), file);
      return { local: a.count(), b: b.count() };
    } finally {
      await a.close();
      await b.close();
    }
  }

  it('apply, diff, ps, stats, inspect, rm --data, down --data and cleanup: one /info per engine', async () => {
    const counts: Record<string, { local: number; b: number }> = {};
    counts.apply = await asked(async (port, file) => {
      expect((await reconcileFleet(file, { port })).report.ok).toBe(true);
    });
    counts.diff = await asked(async (port, file) => {
      expect((await diffFleet(file, { port })).plan.actions).toEqual([]);
    });
    counts.ps = await asked(async (port, file) => {
      expect((await psReport(file, { port })).rows.map((r) => [r.agent, r.state])).toEqual([
        ['x', 'running'],
        ['y', 'running'],
      ]);
    });
    counts.stats = await asked(async (port, file) => {
      const rows = await new StatsSampler({ port, desired: file, project: P }).sample();
      expect(rows.map((r) => [r.agent, r.engine])).toEqual([
        ['x', 'local'],
        ['y', 'b'],
      ]);
    });
    counts.inspect = await asked(async (port, file) => {
      expect((await inspectAgent('y', { port, desired: file, project: P })).engine).toBe('b');
    });
    counts['rm --data'] = await asked(async (port, file) => {
      const [r] = await removeAgents(['y'], {
        port,
        desired: file,
        project: P,
        removeData: true,
        stopTimeoutSeconds: 1,
      });
      expect(r?.ok, JSON.stringify(r)).toBe(true);
    });
    counts['down --data'] = await asked(async (port, file) => {
      const r = await downFleet(file, { port, removeData: true, stopTimeoutSeconds: 1 });
      expect(r.removed.map((x) => x.agent)).toEqual(['x']);
    });
    counts.cleanup = await asked(async (port, file) => {
      await cleanup({ port, desired: file, runtimeDir: t.rtA(), olderThanMs: 0, project: P });
    });
    console.log(`/info requests per command: ${JSON.stringify(counts)}`);
    for (const [cmd, c] of Object.entries(counts)) expect(c, cmd).toEqual({ local: 1, b: 1 });
    expect(t.names(t.a, P)).toEqual([]);
    expect(t.names(t.b, P)).toEqual([]);
  }, 240_000);
});
