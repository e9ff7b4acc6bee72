/**
 * The process limit holds at fleet scale, with the default limits: 300 agents of one image, all running
 * as the image's uid 1000, one of which forks until it hits its own limit. Every other agent (and one
 * created afterwards) must still be able to start processes. With a per-host-uid `nproc` limit (the
 * old default 512:1024) this fails twice over: 300 idle agents alone are 600 processes of uid 1000, and
 * the fork bomb takes the rest.
 *
 * Execs go through the Engine API with dockerode (a real client, not agentctl's port), in parallel, so
 * the test costs about what creating the fleet costs.
 *
 * The fleet runs on a dockerd of the test's own (own network namespace): 300 containers created and
 * removed on the machine's shared engine, next to other test files' network calls, once deadlocked
 * Docker 20.10's libnetwork for everyone (GET /info hung for minutes).
 */
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/docker/engine.js';
import { reconcile } from '../../src/ops/reconcile.js';
import { testProject } from '../helpers/project.js';
import { type TestDockerd, testDockerd } from '../helpers/test-dockerd.js';

const FLEET = 300;
let engine: TestDockerd;
let port: DockerEngine;
let docker$: Docker;

/** Runs `cmd` in the container; its exit code, or the engine's refusal to start it. */
async function run(container: string, cmd: string[]): Promise<{ exitCode: number | null; out: string }> {
  const exec = await docker$
    .getContainer(container)
    .exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => chunks.push(c));
  docker$.modem.demuxStream(stream, sink, sink);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  const info = await exec.inspect();
  return { exitCode: info.ExitCode, out: Buffer.concat(chunks).toString('utf8') };
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

/** The pids the engine counts for the container (its pids cgroup). */
async function pidsOf(container: string): Promise<number> {
  const stats = await docker$.getContainer(container).stats({ stream: false });
  return stats.pids_stats?.current ?? NaN;
}

// Through dockerode, not the docker CLI: a synchronous child process blocks the test worker, and on a
// loaded machine vitest's own worker calls then time out.
const inspect = (name: string) => docker$.getContainer(name).inspect();

describe('process isolation at fleet scale (real engine)', () => {
  const p = testProject('fleet');
  beforeAll(async () => {
    engine = testDockerd('ac12f');
    await engine.start();
    await engine.loadTestImage();
    const socketPath = engine.host.slice('unix://'.length);
    port = new DockerEngine({ socketPath });
    docker$ = new Docker({ socketPath });
  }, 120_000);
  // The engine's cleanup takes its containers with it; p.cleanup then finds none on the machine's.
  afterAll(async () => {
    await engine?.cleanup();
    p.cleanup();
  }, 300_000);

  it(`one of ${FLEET} agents forking to its limit leaves every other agent able to start processes`, async () => {
    // Default limits (pids 1024, no nproc), default image user (agent, uid 1000). The bomb's memory is
    // raised so that the limit it meets is the process limit, not memory.
    const fleet = (extra: string[] = []) =>
      p.write(
        ['agents:', `  a: { replicas: ${FLEET - 1} }`, '  bomb: { memory: 512m }', ...extra].join('\n'),
        '  network: none',
      );
    fleet();
    const first = await reconcile(await p.load(), { parallel: 8, port });
    expect(first.report.results.filter((r) => !r.ok).map((r) => r.error)).toEqual([]);
    const bomb = `${p.prefix}bomb`;
    const others = Array.from({ length: FLEET - 1 }, (_, i) => `${p.prefix}a-${i + 1}`);
    expect((await inspect(bomb)).Config.User).toBe('agent');

    // The fork bomb: background sleeps until fork fails; the shell then exits with "can't fork", and
    // the agent is left at its own limit.
    const bombed = await run(bomb, ['sh', '-c', 'while :; do sleep 600 & done']);
    expect(bombed.exitCode).not.toBe(0);
    expect(bombed.out).toMatch(/can't fork/);
    const pids = await pidsOf(bomb);
    expect(pids).toBeGreaterThanOrEqual(1000); // its limit, 1024: init and the sleeps
    expect(pids).toBeLessThanOrEqual(1024);

    // Every other agent forks (a background child and a wait) and runs a new program.
    const results = await mapLimit(others, 16, async (name) => ({
      name,
      ...(await run(name, ['sh', '-c', 'sleep 0 & wait && echo ok'])),
    }));
    const failed = results.filter((r) => r.exitCode !== 0 || r.out !== 'ok\n');
    expect(failed.map((r) => `${r.name}: ${r.exitCode} ${r.out.trim()}`)).toEqual([]);

    // A new agent starts and stays up: its init is not starved either.
    fleet(['  late: {}']);
    const second = await reconcile(await p.load(), { parallel: 8, port });
    expect(second.plan.actions.map((a) => `${a.kind} ${a.agentId}`)).toEqual(['create late']);
    expect(second.report.results.every((r) => r.ok)).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    const late = await inspect(`${p.prefix}late`);
    expect([late.State.Running, late.RestartCount]).toEqual([true, 0]);
    expect(await run(`${p.prefix}late`, ['sh', '-c', 'sleep 0 & wait && echo ok'])).toEqual({
      exitCode: 0,
      out: 'ok\n',
    });
  }, 900_000);
});
