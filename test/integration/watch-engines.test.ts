/**
 * `apply --watch` of a file with `engines:`, through the built binary, against two private dockerds
 * (test/helpers/two-engines.ts): `local` is dockerd A (DOCKER_HOST), engine `b` is dockerd B. One event
 * subscription per engine: a change of the file lands on the right engine, a container removed behind
 * the watcher's back on B is repaired there, and B's dockerd killed and started again is said once (with
 * the agents it holds) while A's agents are served meanwhile, then B's agents are converged again.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../src/watch/events.js';
import { eventually } from '../helpers/eventually.js';
import { twoEngines } from '../helpers/two-engines.js';
import { spawnWatch, type WatchProcess } from '../helpers/watch-process.js';

const PROJECT = `i13-watch-${process.pid}`;
const MiB = 1024 ** 2;

type Reconcile = Extract<WatchEvent, { type: 'reconcile' }>;
type EngineEvent = Extract<WatchEvent, { type: 'engine' }>;

describe('apply --watch over two engines (real dockerds, built binary)', () => {
  const t = twoEngines('i13w');
  let w: WatchProcess | undefined;
  beforeAll(t.start, 180_000);
  afterAll(async () => {
    if (w && w.child.exitCode === null && w.child.signalCode === null) {
      w.child.kill('SIGKILL');
      await w.exited;
    }
    await t.cleanup();
  }, 120_000);

  const write = (agents: string[]) =>
    writeFileSync(path.join(t.dir, 'agents.yaml'), t.fileText(PROJECT, agents));
  const inspect = (e: typeof t.a, name: string, format: string) =>
    e.ok('inspect', name) ? e.docker('inspect', '-f', format, name) : undefined;
  const running = (e: typeof t.a, name: string) => inspect(e, name, '{{.State.Running}}') === 'true';
  const memory = (e: typeof t.a, name: string) => Number(inspect(e, name, '{{.HostConfig.Memory}}'));

  it('converges changes on the right engine, repairs on b, and rides out b going away and coming back', async () => {
    write(['  x: {}', '  y: { engine: b }', '  w: { engine: b }']);
    w = spawnWatch(['--resync', '600'], {
      cwd: t.dir,
      env: { DOCKER_HOST: t.a.host, AGENTCTL_LOCK_DIR: path.join(t.dir, 'locks') },
    });
    const watcher = w;
    const watching = await watcher.waitFor('watching', (e) => e.type === 'watching', 60_000);
    expect(watching.type === 'watching' && watching.engines).toEqual(['b', 'local']);
    await watcher.waitFor('the first apply', (e) => e.type === 'reconcile', 60_000);
    expect(t.names(t.a, PROJECT)).toEqual(['claude-agent-x running']);
    expect(t.names(t.b, PROJECT)).toEqual(['claude-agent-w running', 'claude-agent-y running']);

    // A change of the file: w updated in place on b, v created on b; nothing new on a.
    write(['  x: {}', '  y: { engine: b }', '  w: { engine: b, memory: 96m }', '  v: { engine: b }']);
    await eventually(
      'v created and w at 96m on b',
      () => running(t.b, 'claude-agent-v') && memory(t.b, 'claude-agent-w') === 96 * MiB,
      60_000,
    );
    expect(t.names(t.a, PROJECT)).toEqual(['claude-agent-x running']);
    const changed = (await watcher.waitFor(
      'the change reconciled',
      (e) => e.type === 'reconcile' && e.actions.some((a) => a.agent === 'v'),
    )) as Reconcile;
    expect(changed?.actions.map((a) => `${a.engine}:${a.kind}:${a.agent}`).sort()).toEqual([
      'b:create:v',
      'b:update:w',
    ]);

    // Removed behind its back on b: b's event stream brings the repair, on b.
    const oldY = inspect(t.b, 'claude-agent-y', '{{.Id}}');
    t.b.docker('rm', '-f', 'claude-agent-y');
    await eventually(
      'y recreated on b',
      () => running(t.b, 'claude-agent-y') && inspect(t.b, 'claude-agent-y', '{{.Id}}') !== oldY,
      60_000,
    );
    expect(t.names(t.a, PROJECT)).toEqual(['claude-agent-x running']);

    // b's dockerd killed: said once, with the agents it holds; a is served meanwhile.
    const xId = inspect(t.a, 'claude-agent-x', '{{.Id}}');
    const xStarted = inspect(t.a, 'claude-agent-x', '{{.State.StartedAt}}');
    const before = watcher.events.length;
    t.b.signal('SIGKILL');
    await t.b.exited();
    const lost = (await watcher.waitFor(
      'b lost',
      (e) => e.type === 'engine' && e.state === 'disconnected' && e.engine === 'b',
    )) as EngineEvent;
    expect(lost.agents).toEqual(['v', 'w', 'y']);
    // A change for a and one for b: a's is applied now, b's when b is back.
    write([
      '  x: { memory: 80m }',
      '  y: { engine: b, memory: 72m }',
      '  w: { engine: b, memory: 96m }',
      '  v: { engine: b }',
    ]);
    await eventually(
      'x at 80m on a while b is down',
      () => memory(t.a, 'claude-agent-x') === 80 * MiB,
      60_000,
    );
    const during = (await watcher.waitFor(
      'the reconcile of that change',
      (e) => e.type === 'reconcile' && e.trigger.includes('file') && watcher.events.indexOf(e) > before,
    )) as Reconcile;
    expect(during.actions.map((a) => `${a.engine}:${a.kind}:${a.agent}:${a.ok}`)).toEqual([
      'local:update:x:true',
    ]);
    expect(during.unreachable.map((u) => [u.engine, u.agents])).toEqual([['b', ['v', 'w', 'y']]]);

    // b back: said, resynced, its agents converged; a's agent kept its container and was never restarted.
    await t.b.start();
    await watcher.waitFor(
      'b reconnected',
      (e) => e.type === 'engine' && e.state === 'connected' && e.engine === 'b',
      60_000,
    );
    await eventually(
      "b's agents running again",
      () => ['v', 'w', 'y'].every((id) => running(t.b, `claude-agent-${id}`)),
      90_000,
    );
    await eventually('y at 72m on b', () => memory(t.b, 'claude-agent-y') === 72 * MiB, 60_000);
    expect(memory(t.b, 'claude-agent-w')).toBe(96 * MiB);
    expect(t.names(t.b, PROJECT)).toEqual([
      'claude-agent-v running',
      'claude-agent-w running',
      'claude-agent-y running',
    ]);
    expect(t.names(t.a, PROJECT)).toEqual(['claude-agent-x running']);
    expect(inspect(t.a, 'claude-agent-x', '{{.Id}}')).toBe(xId);
    expect(inspect(t.a, 'claude-agent-x', '{{.State.StartedAt}}')).toBe(xStarted);
    // Said once for the outage, however many reconciles ran meanwhile; a's stream never dropped.
    const engineEvents = watcher.events.filter((e): e is EngineEvent => e.type === 'engine');
    expect(engineEvents.map((e) => `${e.engine}:${e.state}`)).toEqual(['b:disconnected', 'b:connected']);

    watcher.child.kill('SIGTERM');
    expect(await watcher.exited).toEqual({ code: 0, signal: null });
    expect(watcher.notJson).toEqual([]);
  }, 400_000);
});
