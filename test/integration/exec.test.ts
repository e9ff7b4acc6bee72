/**
 * The library API (AgentManager) and the exec hot path against the real engine, on the busybox image
 * (no bash: the sh fallback is exercised). What happened inside the container is checked with the
 * docker CLI, never through agentctl's own port.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/docker/engine.js';
import type { DockerPort } from '../../src/docker/port.js';
import { AgentctlError } from '../../src/errors.js';
import { AgentManager } from '../../src/ops/agent-manager.js';
import { docker, dockerTry, inspect, removeProjectContainers, TEST_IMAGE } from '../helpers/docker.js';

const MiB = 1024 ** 2;

/** The processes in a container, as `ps` inside it sees them (pid and command line). */
function processes(container: string): string[] {
  return docker('exec', container, 'ps', '-o', 'pid,args')
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => !/\bps -o pid,args$/.test(l));
}

/** A DockerPort that counts exec calls (to see the shell fallback happen once per container). */
function countingPort(): { port: DockerPort; execs: string[][] } {
  const engine = new DockerEngine();
  const execs: string[][] = [];
  const port = new Proxy(engine, {
    get(target, prop, receiver) {
      if (prop === 'exec') {
        return (...args: Parameters<DockerPort['exec']>) => {
          execs.push(args[1].cmd);
          return target.exec(...args);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { port, execs };
}

async function rejection(p: Promise<unknown>): Promise<AgentctlError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentctlError);
  return err as AgentctlError;
}

describe('AgentManager (real engine)', () => {
  const project = `exec-${randomBytes(4).toString('hex')}`;
  const prefix = `${project}-`;
  const runtimeDir = mkdtempSync(path.join(os.tmpdir(), `agentctl-${project}-`));
  const counting = countingPort();
  const mgr = new AgentManager({ project, runtimeDir, namePrefix: prefix, port: counting.port });
  const agent = { image: TEST_IMAGE, memory: '64m', cpus: 0.5, network: 'none' };
  const name = `${prefix}worker`;

  beforeAll(async () => {
    await mgr.createAgent({ id: 'worker', ...agent });
  });
  afterAll(() => {
    removeProjectContainers(project);
    rmSync(runtimeDir, { recursive: true, force: true });
  });

  it('createAgent makes a running container with the agents.yaml hardening', () => {
    const c = inspect(name);
    expect(c.State.Running).toBe(true);
    expect(c.Config.Labels['agentctl.project']).toBe(project);
    expect(c.Config.Labels['agentctl.agent']).toBe('worker');
    expect(c.HostConfig.Memory).toBe(64 * MiB);
    expect(c.HostConfig.NanoCpus).toBe(5e8);
    expect(c.HostConfig.ReadonlyRootfs).toBe(true);
    expect(c.HostConfig.CapDrop).toEqual(['ALL']);
    expect(c.HostConfig.SecurityOpt).toContain('no-new-privileges:true');
    expect(c.HostConfig.PidsLimit).toBe(1024);
    expect(c.Config.Env).toContain('AGENT_ID=worker');
    expect(c.Mounts.find((m: { Destination: string }) => m.Destination === '/mnt').Source).toBe(
      path.join(runtimeDir, 'agent-working-directory', 'worker'),
    );
  });

  it('falls back to sh on an image without bash, finding out once per container', async () => {
    const before = counting.execs.length;
    const first = await mgr.executeCommand('worker', 'echo "$0"');
    const second = await mgr.executeCommand('worker', 'echo "$0"');
    expect([first.stdout, second.stdout]).toEqual(['sh\n', 'sh\n']);
    const shells = counting.execs.slice(before).map((cmd) => cmd[0]);
    // The beforeAll created the agent but ran nothing: the first command found out, the second knew.
    expect(shells).toEqual(['bash', 'sh', 'sh']);
  });

  it('still times commands out when many run at once (each holds a connection until it ends)', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => mgr.executeCommand('worker', 'sleep 1000', { timeoutMs: 500 })),
    );
    expect(results.map((r) => r.exitCode)).toEqual(Array.from({ length: 20 }, () => 124));
    expect(processes(name).filter((p) => p.includes('sleep 1000'))).toEqual([]);
  });

  it("returns the command's exit code, stdout and stderr apart", async () => {
    const r = await mgr.executeCommand('worker', 'echo out; echo err >&2; echo more; exit 3');
    expect(r).toMatchObject({ exitCode: 3, stdout: 'out\nmore\n', stderr: 'err\n', timedOut: false });
    expect(r.truncated).toBe(false);
    expect(r.durationMs).toBeGreaterThan(0);
    expect((await mgr.executeCommand('worker', 'true')).exitCode).toBe(0);
    expect((await mgr.executeCommand('worker', 'kill -TERM $$')).exitCode).toBe(143);
  });

  it('passes stdin, then end of file', async () => {
    const r = await mgr.executeCommand('worker', 'cat; echo done', { stdin: 'line 1\nline 2' });
    expect(r.stdout).toBe('line 1\nline 2done\n');
    const big = Buffer.alloc(3 * MiB, 'z');
    expect((await mgr.executeCommand('worker', 'wc -c', { stdin: big })).stdout.trim()).toBe(
      String(big.length),
    );
    // A command that does not read its stdin is not disturbed by it.
    expect((await mgr.executeCommand('worker', 'exit 4', { stdin: big })).exitCode).toBe(4);
  });

  it('applies env, workdir and user; defaults are the agent’s /mnt and user', async () => {
    const custom = await mgr.executeCommand('worker', 'echo "$FOO|$AGENT_ID"; pwd; id -u', {
      env: { FOO: 'bar baz' },
      workdir: '/tmp',
      user: 'root',
    });
    expect(custom.stdout).toBe('bar baz|worker\n/tmp\n0\n');
    const plain = await mgr.executeCommand('worker', 'pwd; id -u; touch /mnt/written && echo ok');
    expect(plain.stdout).toBe('/mnt\n1000\nok\n');
  });

  it('caps a flood of output per stream, reading it all without keeping it', async () => {
    const r = await mgr.executeCommand(
      'worker',
      'yes | head -c 50000000; yes err | head -c 5000000 >&2; echo tail',
      { maxOutputBytes: 1000 },
    );
    // Exit 0 and "tail" read past the flood: the whole stream was consumed, not abandoned.
    expect(r.exitCode).toBe(0);
    expect(r.truncated).toBe(true);
    expect(r.stdoutBytes.length).toBe(1000);
    expect(r.stdout).toBe('y\n'.repeat(500));
    expect(r.stderrBytes.length).toBe(1000);
    expect(r.stderr.startsWith('err\nerr\n')).toBe(true);
  });

  it('kills a command that hits its timeout inside the container, with everything it started', async () => {
    const r = await mgr.executeCommand(
      'worker',
      [
        'echo started',
        'sleep 1001 &',
        'setsid sleep 1002 &', // its own session: a process-group kill would miss it
        'env -i sleep 1003 &', // no marker in its environment: found as a child of one that has it
        '(sleep 1004 &) ', // orphaned at once: re-parented to init, but still marked
        'while :; do sleep 1; done',
      ].join('\n'),
      { timeoutMs: 1500 },
    );
    expect(r).toMatchObject({ exitCode: 124, timedOut: true, stdout: 'started\n' });
    expect(r.durationMs).toBeGreaterThanOrEqual(1500);
    // Only the container's own init and main process remain.
    expect(processes(name)).toEqual([
      '1 /sbin/docker-init -- sleep 2147483647',
      expect.stringMatching(/^\d+ sleep 2147483647$/),
    ]);
  });

  it('an aborted signal kills the command inside the container like a timeout, exit 130', async () => {
    const ctl = new AbortController();
    const running = mgr.executeCommand('worker', 'echo go; sleep 1005 & sleep 1006', { signal: ctl.signal });
    // Abort once the command is surely running: when its output has arrived, seen from outside.
    for (let i = 0; i < 100 && !processes(name).some((l) => l.includes('sleep 1006')); i++)
      await new Promise((r) => setTimeout(r, 50));
    ctl.abort();
    expect(await running).toMatchObject({ exitCode: 130, timedOut: false, stdout: 'go\n' });
    expect(processes(name).filter((l) => /sleep 100[56]/.test(l))).toEqual([]);
  });

  it('returns binary output byte for byte, and decodes invalid UTF-8 with replacement characters', async () => {
    const bin = await mgr.executeCommand('worker', "printf '\\000\\001\\377\\376\\200'");
    expect(bin.stdoutBytes).toEqual(Buffer.from([0, 1, 255, 254, 128]));
    expect(bin.stdout).toBe('\u0000\u0001\uFFFD\uFFFD\uFFFD');
    const text = await mgr.executeCommand('worker', "printf 'ok \\377 end \\342\\202\\254'");
    expect(text.stdout).toBe('ok \uFFFD end €');
  });

  it('runs commands concurrently over one connection pool', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => mgr.executeCommand('worker', `echo ${i}; echo e${i} >&2`)),
    );
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 12 }, (_, i) => `${i}\n`));
    expect(results.map((r) => r.stderr)).toEqual(Array.from({ length: 12 }, (_, i) => `e${i}\n`));
  });

  it('reports a command the runtime cannot start as an error, without forgetting the shell', async () => {
    const e = await rejection(mgr.executeCommand('worker', 'pwd', { workdir: '/no/such/dir' }));
    expect(e.message).toMatch(/cannot run a command in agent worker: .*no\/such\/dir/);
    const before = counting.execs.length;
    expect((await mgr.executeCommand('worker', 'echo "$0"')).stdout).toBe('sh\n');
    expect(counting.execs.length - before).toBe(1);
  });

  it('names an unknown agent', async () => {
    const e = await rejection(mgr.executeCommand('nope', 'true'));
    expect(e.kind).toBe('not-found');
    expect(e.message).toBe(`no agent "nope" in project "${project}"`);
  });

  it('accepts the container name for the agent id', async () => {
    expect((await mgr.executeCommand(name, 'echo $AGENT_ID')).stdout).toBe('worker\n');
  });

  it('says how to start a stopped agent, and runs again once it is started', async () => {
    await mgr.createAgent({ id: 'sleepy', ...agent });
    expect((await mgr.executeCommand('sleepy', 'true')).exitCode).toBe(0); // now cached
    await mgr.stopAgent('sleepy', { timeoutSeconds: 0 });
    expect(inspect(`${prefix}sleepy`).State.Running).toBe(false);
    const e = await rejection(mgr.executeCommand('sleepy', 'true'));
    expect(e.message).toBe('agent sleepy is not running; start it with agentctl start sleepy');
    expect(e.kind).toBe('not-running');
    await mgr.startAgent('sleepy');
    expect((await mgr.executeCommand('sleepy', 'echo back')).stdout).toBe('back\n');
  });

  it("follows an agent whose container another manager recreated; fails cleanly once it's removed", async () => {
    await mgr.createAgent({ id: 'moving', ...agent });
    const oldId = inspect(`${prefix}moving`).Id as string;
    expect((await mgr.executeCommand('moving', 'echo $MODE')).stdout).toBe('\n');
    const other = new AgentManager({ project, runtimeDir, namePrefix: prefix });
    await other.createAgent({ id: 'moving', ...agent, env: { MODE: 'two' } });
    expect(inspect(`${prefix}moving`).Id).not.toBe(oldId);
    expect((await mgr.executeCommand('moving', 'echo $MODE')).stdout).toBe('two\n');
    await other.removeAgent('moving', { removeData: true, timeoutSeconds: 0 });
    expect(dockerTry('inspect', `${prefix}moving`).status).not.toBe(0);
    expect((await rejection(mgr.executeCommand('moving', 'true'))).kind).toBe('not-found');
  });

  it('getLogs returns the agent’s own output', async () => {
    await mgr.createAgent({
      id: 'talker',
      ...agent,
      command: ['sh', '-c', 'echo line-1; echo line-2; echo oops >&2; exec sleep 2147483647'],
    });
    // The command prints at start: wait for it rather than for a fixed time.
    let logs = await mgr.getLogs('talker', { tail: 50 });
    for (let i = 0; i < 50 && !logs.stderr.includes('oops'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      logs = await mgr.getLogs('talker', { tail: 50 });
    }
    expect(logs.stdout).toBe('line-1\nline-2\n');
    expect(logs.stderr).toBe('oops\n');
    // The last line of both streams together (which stream's line came last is the engine's call).
    const last = await mgr.getLogs('talker', { tail: 1 });
    expect(['line-2\n', 'oops\n']).toContain(last.stdout + last.stderr);
  });

  it('removeAgent removes the container, and its data with removeData', async () => {
    await mgr.createAgent({ id: 'doomed', ...agent });
    await mgr.executeCommand('doomed', 'echo data > /mnt/file');
    const dir = path.join(runtimeDir, 'agent-working-directory', 'doomed');
    expect(existsSync(path.join(dir, 'file'))).toBe(true);
    await mgr.removeAgent('doomed', { removeData: true, timeoutSeconds: 0 });
    expect(dockerTry('inspect', `${prefix}doomed`).status).not.toBe(0);
    expect(existsSync(dir)).toBe(false);
  });

  it('createAgent refuses a missing image before changing anything', async () => {
    const e = await rejection(
      mgr.createAgent({ id: 'ghost', ...agent, image: 'agentctl-no-such-image:nope' }),
    );
    expect(e.kind).toBe('preflight');
    expect(e.message).toMatch(/agentctl-no-such-image:nope/);
    expect(dockerTry('inspect', `${prefix}ghost`).status).not.toBe(0);
  });

  it('createAgent rejects invalid settings with a config error', async () => {
    const e = await rejection(mgr.createAgent({ id: 'bad', ...agent, memory: 'lots' }));
    expect(e.kind).toBe('config');
    expect(e.message).toMatch(/memory/);
    expect((await rejection(mgr.createAgent({ id: '../escape', ...agent }))).kind).toBe('config');
  });
});

describe('AgentManager without an engine', () => {
  it('says the engine is unreachable', async () => {
    const mgr = new AgentManager({
      project: 'unreachable',
      port: new DockerEngine({ socketPath: '/nonexistent/docker.sock' }),
    });
    const e = await rejection(mgr.executeCommand('any', 'true'));
    expect(e.kind).toBe('engine-unreachable');
    expect(e.message).toMatch(/cannot reach the Docker engine/);
  });
});
