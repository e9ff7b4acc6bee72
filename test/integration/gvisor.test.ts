/**
 * gVisor for real: Debian's runsc registered in a dockerd the test starts (the machine's engine is not
 * reconfigured), driven by the built binary through DOCKER_HOST. Two registrations, as a user would
 * make them: `runsc` with --network=none (the one that starts sandboxes on kernels from about 6.7,
 * google/gvisor#10704) and `runsc-net` with gVisor's own network stack.
 *
 * What it proves: agents run under gVisor; a limit change recreates them (runsc has no update) and
 * converges instead of drifting; a network the sandbox cannot have, and a pids limit gVisor's own
 * threads would exhaust, are refused before anything is created; a gVisor that cannot start a
 * networked sandbox on this kernel is said to be that, not a raw runtime error.
 */
import { rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { agentctlAsync, runAsync } from '../helpers/cli.js';
import { type TestDockerd, type TestDockerdOptions, testDockerd } from '../helpers/test-dockerd.js';
import { which } from '../helpers/which.js';
import { type TestProject, testProject } from '../helpers/project.js';

const RUNSC = which('runsc');

async function dockerOn(host: string, ...args: string[]): Promise<{ status: number; stderr: string }> {
  const r = await runAsync('docker', ['-H', host, ...args], { timeout: 0 }); // none, as before
  return { status: r.status, stderr: r.stderr };
}
if (!RUNSC) {
  console.warn(
    "SKIPPED: test/integration/gvisor.test.ts needs Debian's runsc package (apt-get install runsc; .ci/run installs it)",
  );
}

type GvisorDockerd = ReturnType<typeof gvisorDockerd>;

/**
 * A dockerd of the test with runsc registered as `opts` says, started (with the test image) before the
 * describe's tests and removed after them, and projects on it whose defaults add `defaults`.
 */
function gvisorDockerd(tag: string, opts: TestDockerdOptions, defaults = '') {
  let d: TestDockerd | undefined;
  const dirs: string[] = [];
  beforeAll(async () => {
    d = testDockerd(tag, opts);
    await d.start();
    await d.loadTestImage();
  });
  afterAll(async () => {
    await d?.cleanup();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const engine = {
    get d(): TestDockerd {
      if (!d) throw new Error('the test dockerd is not started');
      return d;
    },
    // Through the getter: an empty DOCKER_HOST would be the machine's engine.
    env: () => ({ DOCKER_HOST: engine.d.host }),
    /** A project on the test's dockerd (its containers die with it: no cleanup on the machine's engine). */
    project(projectTag: string, agents: string): TestProject {
      const p = testProject(projectTag);
      dirs.push(p.dir);
      p.write(agents, defaults);
      return p;
    },
  };
  return engine;
}

/** apply refuses agent `a` of `p` for `message`, and neither its container nor its directory exists. */
async function expectRefusedBeforeCreating(
  engine: GvisorDockerd,
  p: TestProject,
  message: RegExp,
): Promise<void> {
  const r = await agentctlAsync(['apply'], { cwd: p.dir, env: engine.env() });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/preflight failed, nothing was changed/);
  expect(r.stderr).toMatch(message);
  expect(engine.d.ok('inspect', `${p.prefix}a`)).toBe(false);
  expect(existsSync(p.workDir('a'))).toBe(false);
}

describe.skipIf(!RUNSC)('gVisor (runsc in a dockerd of the test)', () => {
  const engine = gvisorDockerd(
    'ac13g',
    {
      daemonConfig: {
        runtimes: {
          runsc: { path: RUNSC, runtimeArgs: ['--network=none'] },
          'runsc-net': { path: RUNSC },
        },
      },
    },
    '  network: none\n  runtime: runsc',
  );
  const { env, project } = engine;
  const inspect = (name: string) => JSON.parse(engine.d.docker('inspect', name))[0];

  it('runs an agent under gVisor, with a pids default that leaves room for its own threads', async () => {
    const p = project('ac13gv', 'agents:\n  a: {}');
    const r = await agentctlAsync(['apply'], { cwd: p.dir, env: env() });
    expect(r.status, r.stderr).toBe(0);
    const c = inspect(`${p.prefix}a`);
    expect(c.HostConfig.Runtime).toBe('runsc');
    expect(c.HostConfig.PidsLimit).toBe(8192);
    expect(engine.d.docker('exec', `${p.prefix}a`, 'dmesg')).toMatch(/Starting gVisor/);
  });

  it("runs the default healthcheck probe (the engine's init) inside the sandbox", async () => {
    const p = project('ac13gh', 'agents:\n  a: { healthcheck: { interval: 1s } }');
    const r = await agentctlAsync(['apply', '--wait-ready', '0'], { cwd: p.dir, env: env() });
    expect(r.status, r.stderr).toBe(0);
    expect(inspect(`${p.prefix}a`).Config.Healthcheck.Test).toEqual([
      'CMD',
      '/sbin/docker-init',
      '--version',
    ]);
    await eventually('the probe to pass under runsc', () => {
      const health = inspect(`${p.prefix}a`).State.Health as { Status: string; Log?: { ExitCode: number }[] };
      if (health.Status === 'unhealthy') throw new Error(JSON.stringify(health.Log));
      return health.Status === 'healthy';
    });
  });

  it('recreates an agent whose limits changed, as runsc has no update, and then is in sync', async () => {
    const p = project('ac13gu', 'agents:\n  a: {}');
    expect((await agentctlAsync(['apply'], { cwd: p.dir, env: env() })).status).toBe(0);
    const before = inspect(`${p.prefix}a`);
    writeFileSync(path.join(p.workDir('a'), 'keep'), 'data');

    p.write('agents:\n  a: { memory: 96m, pids: 4096 }', '  network: none\n  runtime: runsc');
    const plan = await agentctlAsync(['diff'], { cwd: p.dir, env: env() });
    expect(plan.status).toBe(2);
    expect(plan.stdout).toMatch(
      /a will be recreated .*memory, pids differ from the file, and its runtime runsc \(gVisor\) cannot change limits of a running container/,
    );
    const r = await agentctlAsync(['apply'], { cwd: p.dir, env: env() });
    expect(r.status, r.stderr).toBe(0);
    const after = inspect(`${p.prefix}a`);
    expect(after.Id).not.toBe(before.Id);
    expect(after.HostConfig.Memory).toBe(96 * 1024 ** 2);
    expect(after.HostConfig.PidsLimit).toBe(4096);
    expect(after.State.Running).toBe(true);
    expect(readFileSync(path.join(p.workDir('a'), 'keep'), 'utf8')).toBe('data');
    expect((await agentctlAsync(['diff'], { cwd: p.dir, env: env() })).status).toBe(0);
  });

  it.each([
    [
      'a network under --network=none',
      'agents:\n  a: { network: bridge }',
      /agent a: network "bridge" under runtime "runsc": the engine registers that runtime as gVisor with --network=none, so the sandbox would have no network but loopback; set network: none/,
    ],
    [
      'a pids limit gVisor would exhaust',
      'agents:\n  a: { pids: 64 }',
      /agent a: pids 64 under runtime "runsc" \(gVisor\): its pids limit also counts gVisor's own threads .*kills the whole sandbox; set pids to at least 128/,
    ],
  ])('refuses %s before anything is created', async (_what, agents, message) => {
    const p = project('ac13gr', agents);
    await expectRefusedBeforeCreating(engine, p, message);
  });

  it("says so when this runsc cannot start a sandbox with gVisor's network on this kernel", async () => {
    // What the runtime itself does here decides what agentctl must say: both branches assert.
    const raw = await dockerOn(
      engine.d.host,
      'run',
      '--rm',
      '--runtime',
      'runsc-net',
      '--network',
      'none',
      'agentctl-test-busybox:latest',
      'true',
    );
    const p = project('ac13gn', 'agents:\n  a: { runtime: runsc-net }');
    const r = await agentctlAsync(['apply'], { cwd: p.dir, env: env() });
    if (/cannot run with network enabled in root network namespace/.test(raw.stderr)) {
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /this gVisor runtime cannot set up a sandbox network on the engine's kernel \(Linux [^;]+; google\/gvisor#10704, kernels from about 6\.7\): register runsc with runtimeArgs \["--network=none"\] and give the agent network: none/,
      );
    } else {
      expect(raw.status, raw.stderr).toBe(0);
      expect(r.status, r.stderr).toBe(0);
    }
  });
});

/**
 * An engine whose default runtime is gVisor: an agent without `runtime:` runs under it, so what gVisor
 * cannot give it is refused just the same, though the file never names runsc. On a bridge of its own in
 * the host's network namespace, so `network: bridge` is a real network there.
 */
describe.skipIf(!RUNSC)('gVisor as the engine default runtime (a dockerd of the test)', () => {
  const engine = gvisorDockerd('ac13gd', {
    daemonConfig: {
      runtimes: { runsc: { path: RUNSC, runtimeArgs: ['--network=none'] } },
      'default-runtime': 'runsc',
    },
    bridge: { name: 'ac13gd0', cidr: '10.213.61.1/24' },
  });
  const { env, project } = engine;

  it('is the engine the test means: runsc is its default runtime', async () => {
    expect(engine.d.docker('info', '--format', '{{.DefaultRuntime}}')).toBe('runsc');
  });

  it.each([
    [
      'a bridge agent without runtime',
      'agents:\n  a: { network: bridge, pids: 8192 }',
      /agent a: network "bridge" under the engine's default runtime "runsc": the engine registers that runtime as gVisor with --network=none, so the sandbox would have no network but loopback; set network: none/,
    ],
    [
      'an agent left with the runc pids default',
      'agents:\n  a: { network: none }',
      /agent a: pids is left to the default 1024 \(runc's\), but the agent runs under the engine's default runtime "runsc", which the engine registers as gVisor: .*set pids for this agent \(gVisor's default is 8192/,
    ],
  ])('refuses %s before anything is created', async (_what, agents, message) => {
    const p = project('ac13gd', agents);
    await expectRefusedBeforeCreating(engine, p, message);
  });

  it('runs an agent that asks for what gVisor can give under it, and recreates it for a limit change', async () => {
    const p = project('ac13gk', 'agents:\n  a: { network: none, pids: 8192 }');
    const r = await agentctlAsync(['apply'], { cwd: p.dir, env: env() });
    expect(r.status, r.stderr).toBe(0);
    const inspect = () => JSON.parse(engine.d.docker('inspect', `${p.prefix}a`))[0];
    const before = inspect();
    expect(before.HostConfig.PidsLimit).toBe(8192);
    expect(engine.d.docker('exec', `${p.prefix}a`, 'dmesg')).toMatch(/Starting gVisor/);

    // runsc has no update: the engine's default runtime must be known for gVisor as well as a named one.
    p.write('agents:\n  a: { network: none, pids: 4096 }');
    const again = await agentctlAsync(['apply'], { cwd: p.dir, env: env() });
    expect(again.status, again.stderr).toBe(0);
    const after = inspect();
    expect(after.Id).not.toBe(before.Id);
    expect(after.HostConfig.PidsLimit).toBe(4096);
    expect((await agentctlAsync(['diff'], { cwd: p.dir, env: env() })).status).toBe(0);
  });
});
