/**
 * One bad agent must not stop the watcher's repairs of the others: an agent whose image is missing is
 * withheld (reported once, retried on every reconcile), the rest of the fleet is still healed, and the
 * withheld agent is created once its image appears. A one-shot apply of the same file still refuses the
 * whole run. Real engine; the world is read back with the docker CLI.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { reconcile } from '../../src/ops/reconcile.js';
import { watch, type WatchHandle } from '../../src/watch/controller.js';
import type { WatchEvent } from '../../src/watch/events.js';
import { docker, dockerTry, exists, inspect, projectContainers, TEST_IMAGE } from '../helpers/docker.js';
import { eventually } from '../helpers/eventually.js';
import { type TestProject, testProject } from '../helpers/project.js';

type ErrorEvent = Extract<WatchEvent, { type: 'error' }>;
type Reconcile = Extract<WatchEvent, { type: 'reconcile' }>;

describe('apply --watch withholds an agent with a preflight problem (real engine)', () => {
  const projects: TestProject[] = [];
  const watchers: WatchHandle[] = [];
  const tags: string[] = [];
  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((w) => w.stop()));
    // Containers first: an image reference a container was created from cannot be untagged.
    for (const p of projects.splice(0)) p.cleanup();
    for (const t of tags.splice(0)) dockerTry('rmi', t);
  });

  const running = (name: string) => exists(name) && inspect(name).State.Running === true;

  it('repairs the healthy agents, reports the bad one once, and creates it once its image exists', async () => {
    const p = testProject('wwithhold');
    projects.push(p);
    const missing = `agentctl-test-missing-${randomBytes(4).toString('hex')}:latest`;
    tags.push(missing);
    const a = `${p.prefix}a`;
    const b = `${p.prefix}b`;
    const both = `agents:\n  a: {}\n  b: { image: "${missing}" }`;

    // A one-shot apply refuses the whole run for it, changing nothing: a predictable failure stops it.
    p.write(both, '  restart: "no"');
    await expect(reconcile(await p.load())).rejects.toMatchObject({
      kind: 'preflight',
      message: expect.stringMatching(/^preflight failed, nothing was changed: .*is not present/),
    });
    expect(projectContainers(p.project)).toEqual([]);

    p.write('agents:\n  a: {}', '  restart: "no"');
    const events: WatchEvent[] = [];
    // A short resync: tagging an image sends no container event, so a resync is what retries b.
    const w = watch({ file: p.file, resyncMs: 500, onEvent: (e) => events.push(e) });
    watchers.push(w);
    await w.ready;
    expect(running(a)).toBe(true);

    // b passes validation and becomes the last good state; only b is withheld.
    p.write(both, '  restart: "no"');
    const errorsFor = () =>
      events.filter((e): e is ErrorEvent => e.type === 'error' && e.messages.join().includes(missing));
    const reported = await eventually('the missing image reported', () => errorsFor()[0]);
    expect(reported).toMatchObject({
      kind: 'preflight',
      agents: ['b'],
      messages: [
        expect.stringMatching(new RegExp(`^${p.file}:\\d+:\\d+: image "${missing}" is not present`)),
      ],
    });
    expect(exists(b)).toBe(false);

    // a is still repaired while b is withheld.
    const before = inspect(a).Id as string;
    docker('rm', '-f', a);
    await eventually('a healed', () => running(a) && inspect(a).Id !== before);
    const reconciles = () => events.filter((e): e is Reconcile => e.type === 'reconcile');
    const seen = reconciles().length;
    await eventually('three more reconciles', () => reconciles().length >= seen + 3);
    // Said once, not on every resync; every reconcile still lists b as withheld.
    expect(errorsFor()).toHaveLength(1);
    expect(events.filter((e) => e.type === 'error' && !e.agents)).toEqual([]);
    expect(reconciles().at(-1)?.withheld).toEqual(['b']);
    expect(exists(b)).toBe(false);

    // The image appears: b is created on a later reconcile, as a change of the file (not a repair).
    docker('tag', TEST_IMAGE, missing);
    await eventually('b created once its image exists', () => running(b));
    // Its reconcile event follows the container.
    const created = await eventually('the create of b reported', () =>
      reconciles()
        .flatMap((e) => e.actions)
        .find((x) => x.agent === 'b'),
    );
    expect(created).toMatchObject({ kind: 'create', ok: true, repair: false });
    await eventually('b no longer withheld', () => reconciles().at(-1)?.withheld.length === 0);
    expect(projectContainers(p.project)).toEqual([a, b]);
  });
});
