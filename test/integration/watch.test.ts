/**
 * The watch controller against the real engine and real files, in-process through the library's
 * `watch()`. The world is read back with the docker CLI; the controller's own events are only used to
 * know that it has seen something (a config error), never as proof that the engine changed.
 *
 * Resync is pushed out of reach (10 min) so that every repair here must come from the event stream.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { reconcile } from '../../src/ops/reconcile.js';
import { lockDir } from '../../src/lock.js';
import { watch, type WatchHandle, type WatchOptions } from '../../src/watch/controller.js';
import type { WatchEvent } from '../../src/watch/events.js';
import { docker, exists, inspect, projectContainers } from '../helpers/docker.js';
import { eventually } from '../helpers/eventually.js';
import { type TestProject, testProject } from '../helpers/project.js';

const MiB = 1024 ** 2;

describe('apply --watch (real engine, library)', () => {
  const projects: TestProject[] = [];
  const watchers: WatchHandle[] = [];
  afterEach(async () => {
    // Stop the controllers first: they would otherwise repair the cleanup.
    await Promise.all(watchers.splice(0).map((w) => w.stop()));
    for (const p of projects.splice(0)) p.cleanup();
  });

  const project = (tag: string) => {
    const p = testProject(tag);
    projects.push(p);
    return p;
  };

  async function startWatch(file: string, opts: Partial<WatchOptions> = {}) {
    const events: WatchEvent[] = [];
    const w = watch({ file, resyncMs: 600_000, onEvent: (e) => events.push(e), ...opts });
    watchers.push(w);
    await w.ready;
    return { w, events };
  }

  const running = (name: string) => exists(name) && inspect(name).State.Running === true;
  const memory = (name: string) => inspect(name).HostConfig.Memory as number;
  const configErrors = (events: WatchEvent[]) =>
    events.filter((e): e is Extract<WatchEvent, { type: 'config-error' }> => e.type === 'config-error');

  it('applies once, then converges edits: memory in place, a new agent created', async () => {
    const p = project('wedit');
    p.write('agents:\n  a: {}');
    await startWatch(p.file);
    const a = `${p.prefix}a`;
    expect(running(a)).toBe(true);
    const id = inspect(a).Id;

    p.write('agents:\n  a: { memory: 96m }\n  b: {}');
    await eventually(
      'a at 96m and b running',
      () => exists(a) && memory(a) === 96 * MiB && running(`${p.prefix}b`),
    );
    expect(inspect(a).Id).toBe(id);
    expect(projectContainers(p.project)).toEqual([a, `${p.prefix}b`]);
  });

  it('sees editor saves that rename a temporary file over the original, and delete + re-create', async () => {
    const p = project('wsave');
    p.write('agents:\n  a: {}');
    const original = readFileSync(p.file, 'utf8');
    const { events } = await startWatch(p.file);
    const a = `${p.prefix}a`;
    const id = inspect(a).Id;

    const swap = path.join(p.dir, '.agents.yaml.swp');
    writeFileSync(swap, original.replace('a: {}', 'a: { memory: 96m }'));
    renameSync(swap, p.file);
    await eventually('a at 96m after a rename-over save', () => memory(a) === 96 * MiB);

    rmSync(p.file);
    await eventually('the missing file reported', () =>
      configErrors(events).find((e) => /no such file/.test(e.messages.join())),
    );
    expect(inspect(a).Id).toBe(id);
    expect(memory(a)).toBe(96 * MiB);

    writeFileSync(p.file, original.replace('a: {}', 'a: { memory: 128m }'));
    await eventually('a at 128m after the file came back', () => memory(a) === 128 * MiB);
    expect(inspect(a).Id).toBe(id);
  });

  it('follows a git checkout that git pull updates', async () => {
    const p = project('wgit');
    const git = (cwd: string, ...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, stdio: 'pipe' });
    const upstream = path.join(p.dir, 'upstream');
    const checkout = path.join(p.dir, 'checkout');
    mkdirSync(upstream);
    p.write('agents:\n  a: {}');
    const text = readFileSync(p.file, 'utf8');
    writeFileSync(path.join(upstream, 'agents.yaml'), text);
    git(upstream, 'init', '-q');
    git(upstream, 'add', 'agents.yaml');
    git(upstream, 'commit', '-qm', 'one agent');
    git(p.dir, 'clone', '-q', upstream, checkout);

    await startWatch(path.join(checkout, 'agents.yaml'));
    const a = `${p.prefix}a`;
    expect(memory(a)).toBe(64 * MiB);

    writeFileSync(path.join(upstream, 'agents.yaml'), text.replace('a: {}', 'a: { memory: 96m }\n  b: {}'));
    git(upstream, 'commit', '-qam', 'bigger, and b');
    git(checkout, 'pull', '-q', '--ff-only');
    await eventually('the pulled change applied', () => memory(a) === 96 * MiB && running(`${p.prefix}b`));
  });

  it('keeps the last good state through invalid files and applies the fixed one', async () => {
    const p = project('wbad');
    p.write('agents:\n  a: {}');
    const { events } = await startWatch(p.file);
    const a = `${p.prefix}a`;
    const id = inspect(a).Id;

    // A schema error, then a YAML syntax error (what a half-written file often is).
    p.write('agents:\n  a: { memory: lots }');
    const schema = await eventually('the schema error reported', () => configErrors(events)[0]);
    expect(schema.messages[0]).toMatch(new RegExp(`^${p.file}:\\d+:\\d+: .*memory`));
    writeFileSync(p.file, readFileSync(p.file, 'utf8').replace('a: { memory: lots }', 'a: { memory: 96m'));
    const syntax = await eventually('the YAML error reported', () =>
      configErrors(events).find((e) => !e.messages.join().includes('lots')),
    );
    expect(syntax.messages[0]).toMatch(new RegExp(`^${p.file}:\\d+:\\d+: `));

    expect(projectContainers(p.project)).toEqual([a]);
    expect(inspect(a).Id).toBe(id);
    expect(memory(a)).toBe(64 * MiB);

    p.write('agents:\n  a: { memory: 96m }');
    await eventually('the fixed file applied', () => memory(a) === 96 * MiB);
    expect(inspect(a).Id).toBe(id);
  });

  it('never tears the fleet down for an emptied file, and keeps repairing with the last good state', async () => {
    const p = project('wempty');
    p.write('agents:\n  a: {}\n  b: {}');
    const { events } = await startWatch(p.file);
    const names = [`${p.prefix}a`, `${p.prefix}b`];
    const ids = names.map((n) => inspect(n).Id);

    writeFileSync(p.file, '');
    await eventually('the empty file refused', () =>
      configErrors(events).find((e) => /:1:1: the file is empty/.test(e.messages.join())),
    );
    expect(projectContainers(p.project)).toEqual(names);
    p.write('agents: {}');
    await eventually('the fleet with no agents refused', () =>
      configErrors(events).find((e) => /declares no agents/.test(e.messages.join())),
    );
    expect(projectContainers(p.project)).toEqual(names);
    expect(names.map((n) => inspect(n).Id)).toEqual(ids);

    docker('stop', '-t', '0', names[1] as string);
    await eventually('b started again', () => running(names[1] as string));
    expect(names.map((n) => inspect(n).Id)).toEqual(ids);
  });

  it('heals agents killed, removed, stopped or updated behind its back, promptly and without duplicates', async () => {
    const p = project('wheal');
    // restart "no" everywhere: the engine's own restart policy must not be what brings them back.
    p.write('agents:\n  killed: {}\n  removed: {}\n  stopped: {}\n  squeezed: {}', '  restart: "no"');
    await startWatch(p.file);
    const n = (id: string) => `${p.prefix}${id}`;
    const removedId = inspect(n('removed')).Id;
    const keptIds = ['killed', 'stopped', 'squeezed'].map((id) => inspect(n(id)).Id);

    docker('kill', n('killed'));
    docker('rm', '-f', n('removed'));
    docker('stop', '-t', '0', n('stopped'));
    docker('update', '--memory', '32m', '--memory-swap', '32m', n('squeezed'));

    await eventually(
      'every agent back as declared',
      () =>
        ['killed', 'removed', 'stopped', 'squeezed'].every((id) => running(n(id))) &&
        memory(n('squeezed')) === 64 * MiB,
    );
    expect(inspect(n('removed')).Id).not.toBe(removedId);
    expect(['killed', 'stopped', 'squeezed'].map((id) => inspect(n(id)).Id)).toEqual(keptIds);
    expect(projectContainers(p.project)).toEqual(['killed', 'removed', 'squeezed', 'stopped'].map(n));
  });

  it('reconciles for a health change only when it changes what it says: unhealthy, then well again', async () => {
    const p = project('whealth');
    p.write(
      'agents:\n  a: {}\n  b: {}',
      '  network: none\n  healthcheck: { command: "test ! -e /mnt/sick", interval: 1s, retries: 1 }',
    );
    const { events } = await startWatch(p.file);
    const health = (id: string) => inspect(`${p.prefix}${id}`).State.Health?.Status;
    const reconciles = () =>
      events.filter((e): e is Extract<WatchEvent, { type: 'reconcile' }> => e.type === 'reconcile');
    await eventually('both agents healthy', () => health('a') === 'healthy' && health('b') === 'healthy');
    // Turning healthy from starting changes nothing the watcher does or says: no reconcile for it.
    await new Promise((r) => setTimeout(r, 1500));
    expect(reconciles().flatMap((e) => e.trigger)).not.toContainEqual(expect.stringMatching(/health_status/));

    writeFileSync(path.join(p.workDir('b'), 'sick'), '');
    await eventually('b unhealthy, and said so', () => reconciles().some((e) => e.newlyUnwell.includes('b')));
    expect(health('b')).toBe('unhealthy');
    rmSync(path.join(p.workDir('b'), 'sick'));
    await eventually('b well again, and said so', () => reconciles().some((e) => e.recovered.includes('b')));
    expect(health('b')).toBe('healthy');
    expect(reconciles().flatMap((e) => e.newlyUnwell)).toEqual(['b']);
  });

  it('holds the project lock while it runs: a one-shot apply is refused, naming it', async () => {
    const p = project('wlock');
    p.write('agents:\n  a: {}');
    const { w } = await startWatch(p.file);
    await expect(reconcile(await p.load())).rejects.toThrow(new RegExp(`locked by pid ${process.pid}\\b`));
    await w.stop();
    expect(existsSync(path.join(lockDir(), `${p.project}.lock`))).toBe(false);
    const { plan } = await reconcile(await p.load());
    expect(plan.actions).toEqual([]);
    expect(running(`${p.prefix}a`)).toBe(true);
  });
});
