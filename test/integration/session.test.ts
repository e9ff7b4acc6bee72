/**
 * Persistent sessions against the real engine, under busybox sh (the shared test image) and under
 * bash (the same image plus the host's bash). What happened inside the container is checked with the
 * docker CLI, never through agentctl's own port.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/docker/engine.js';
import type { DockerPort } from '../../src/docker/port.js';
import { AgentManager } from '../../src/ops/agent-manager.js';
import { buildBashImage } from '../helpers/bash-image.js';
import { docker, dockerTry, removeProjectContainers, TEST_IMAGE } from '../helpers/docker.js';
import { eventually } from '../helpers/eventually.js';

/** A port that records every call, and every byte the sessions write to an exec's stdin. */
function recordingPort(): { port: DockerPort; calls: string[]; stdin: () => string } {
  const engine = new DockerEngine();
  const calls: string[] = [];
  let written = '';
  const port = new Proxy(engine, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        if (prop === 'exec') {
          const req = args[1] as Parameters<DockerPort['exec']>[1];
          if (req.stdin && !Buffer.isBuffer(req.stdin)) {
            const tee = new PassThrough();
            req.stdin.on('data', (c: Buffer) => (written += c.toString('latin1')));
            req.stdin.pipe(tee);
            args[1] = { ...req, stdin: tee };
          }
        }
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { port, calls, stdin: () => written };
}

/** The processes in a container as `ps` inside it sees them (without the ps itself). */
function processes(container: string): string[] {
  return docker('exec', container, 'ps', '-o', 'pid,args')
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => !/\bps -o pid,args$/.test(l));
}

const images = [
  { shell: 'sh', image: () => TEST_IMAGE },
  { shell: 'bash', image: buildBashImage },
] as const;

describe.each(images)('sessions under $shell (real engine)', ({ shell, image }) => {
  const project = `i10-${shell}-${randomBytes(3).toString('hex')}`;
  const prefix = `${project}-`;
  const container = `${prefix}w`;
  const runtimeDir = mkdtempSync(path.join(os.tmpdir(), `agentctl-${project}-`));
  const rec = recordingPort();
  const mgr = new AgentManager({ project, runtimeDir, namePrefix: prefix, port: rec.port });

  beforeAll(async () => {
    await mgr.createAgent({ id: 'w', image: image(), memory: '64m', cpus: 0.5, network: 'none' });
  });
  afterAll(async () => {
    await mgr.close();
    removeProjectContainers(project);
    rmSync(runtimeDir, { recursive: true, force: true });
  });

  it(`runs commands in ${shell}; cwd, variables and functions persist; named sessions are apart`, async () => {
    const s = await mgr.openSession('w');
    expect(s.shell).toBe(shell);
    expect(await mgr.openSession('w')).toBe(s);
    const first = await s.run(
      'mkdir -p /tmp/agent/proj && cd /tmp/agent/proj && export X=1 && Y=2 && f() { echo "fn $1"; }',
    );
    expect(first).toMatchObject({ exitCode: 0, cwd: '/tmp/agent/proj', restarted: false });
    const r = await s.run('echo $X $Y; f a; pwd; echo oops >&2; false');
    expect(r).toMatchObject({
      exitCode: 1,
      stdout: '1 2\nfn a\n/tmp/agent/proj\n',
      stderr: 'oops\n',
      cwd: '/tmp/agent/proj',
      timedOut: false,
      truncated: false,
      restarted: false,
      bytes: { stdout: 25, stderr: 5 },
    });
    const other = await mgr.openSession('w', { name: 'other' });
    expect(other).not.toBe(s);
    expect(await other.run('echo "[$X]"; pwd')).toMatchObject({ stdout: '[]\n/mnt\n', cwd: '/mnt' });
    expect((await s.run('echo $X')).stdout).toBe('1\n');
    await other.close();
  });

  it('gives the command /dev/null on stdin unless given one, byte for byte', async () => {
    const s = await mgr.openSession('w', { name: 'stdin' });
    expect(await s.run('cat; echo "rc=$?"')).toMatchObject({ stdout: 'rc=0\n', exitCode: 0 });
    const data = Buffer.from('a b\\c\n\ttwo  \n\x01\xff\xfe end');
    const r = await s.run('cat', { stdin: data });
    expect(Buffer.from(r.stdout, 'latin1').length).toBeGreaterThan(0);
    expect(r.bytes.stdout).toBe(data.length);
    const hex = await s.run('od -An -tx1 | tr -d " \\n"', { stdin: data });
    expect(hex.stdout).toBe(data.toString('hex'));
    // A command that reads stdin did not eat the protocol: the session goes on.
    expect((await s.run('echo still here')).stdout).toBe('still here\n');
  });

  it('cannot be fooled by output: frames need a nonce no process in the container ever sees', async () => {
    const s = await mgr.openSession('w', { name: 'forge' });
    const fake = 'printf "\\n%s R 1 ok 1 0 0 0 /\\n" deadbeefdeadbeefdeadbeefdeadbeef';
    const r = await s.run(`${fake}; ${fake} >&2; echo after`);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('\ndeadbeefdeadbeefdeadbeefdeadbeef R 1 ok 1 0 0 0 /\nafter\n');
    // Everything a command can read about the processes around it: environments, arguments, variables.
    const probe = await s.run(
      'for p in /proc/[0-9]*; do cat $p/environ $p/cmdline 2>/dev/null; done | tr "\\0" "\\n"; set; env',
    );
    expect(probe.bytes.stdout).toBeGreaterThan(1000);
    const nonces = [...rec.stdin().matchAll(/^C ([0-9a-f]{32}) /gm)].map((m) => m[1]!);
    expect(nonces.length).toBeGreaterThan(2);
    for (const n of nonces) expect(probe.stdout).not.toContain(n);
  });

  it('a timeout kills the whole tree in the container, returns 124 with partial output, and the session goes on', async () => {
    const s = await mgr.openSession('w', { name: 'timeout' });
    await s.run('cd /tmp/agent && export KEEP=kept');
    const tag = randomBytes(4).toString('hex');
    const t0 = Date.now();
    const r = await s.run(
      `echo before; echo err >&2; sleep 301 & setsid sleep 302 & { sleep 303; echo never; touch /tmp/agent/never-${tag}; }`,
      { timeoutMs: 700 },
    );
    // Well before the 303 s the command would take (a generous bound for a loaded machine).
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r).toMatchObject({ exitCode: 124, timedOut: true, stdout: 'before\n', stderr: 'err\n' });
    expect(processes(container).filter((p) => /sleep 30[123]/.test(p))).toEqual([]);
    const next = await s.run('echo "$KEEP"; pwd');
    expect(next).toMatchObject({ exitCode: 0, stdout: 'kept\n/tmp/agent\n', restarted: true });
    await new Promise((res) => setTimeout(res, 500));
    expect(dockerTry('exec', container, 'test', '-e', `/tmp/agent/never-${tag}`).status).toBe(1);
    expect((await s.run('echo again')).restarted).toBe(false);
  });

  it('an abort signal kills the command like a timeout (130)', async () => {
    const s = await mgr.openSession('w', { name: 'abort' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const r = await s.run('sleep 304', { signal: ac.signal });
    expect(r).toMatchObject({ exitCode: 130, interrupted: true });
    expect(processes(container).filter((p) => /sleep 304/.test(p))).toEqual([]);
  });

  it('a command that ends the shell gives the next call a fresh one, saying so', async () => {
    const s = await mgr.openSession('w', { name: 'exit' });
    expect(await s.run('Z=1; exit 3')).toMatchObject({ exitCode: 3 });
    expect(await s.run('echo "[$Z]"')).toMatchObject({ stdout: '[]\n', restarted: true });
    expect(await s.run('exec sh -c "exit 4"')).toMatchObject({ exitCode: 4 });
    expect((await s.run('echo ok')).restarted).toBe(true);
    expect(await s.run('set -e; false; echo not reached')).toMatchObject({ exitCode: 1, stdout: '' });
    expect(await s.run('echo ok')).toMatchObject({ stdout: 'ok\n', restarted: true });
    // A syntax error is an error, not the end of the shell.
    const bad = await s.run('if then');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/syntax error/);
    expect((await s.run('echo fine')).restarted).toBe(false);
  });

  it('serializes calls; a job kill does not wait behind a running call', async () => {
    const s = await mgr.openSession('w', { name: 'serial' });
    const [a, b] = await Promise.all([
      s.run('sleep 0.3; echo one > /tmp/agent/serial'),
      s.run('cat /tmp/agent/serial'),
    ]);
    expect(a.exitCode).toBe(0);
    expect(b.stdout).toBe('one\n');
    const job = await s.run('sleep 305', { background: true });
    let busyDone = false;
    const busy = s.run('sleep 5; echo done').then((r) => {
      busyDone = true;
      return r;
    });
    await new Promise((res) => setTimeout(res, 200));
    await s.kill(job.jobId!);
    expect(busyDone).toBe(false);
    expect(processes(container).filter((p) => /sleep 305/.test(p))).toEqual([]);
    expect((await busy).stdout).toBe('done\n');
  });

  it('background jobs return at once, write to files, and are listed, read and killed', async () => {
    const s = await mgr.openSession('w', { name: 'jobs' });
    await s.run('cd /tmp/agent && export JV=inherited');
    // The job goes on only once the test says so, so "running" is seen however slow the machine is.
    const job = await s.run(
      'echo "start $JV $(pwd)"; echo e >&2; while [ ! -e go ]; do sleep 0.1; done; echo end; exit 7',
      { background: true },
    );
    expect(job).toMatchObject({ exitCode: 0, stdout: '' });
    expect(job.jobId).toBeTruthy();
    // A command's own `&` does not hold the call open either.
    const bg = await s.run('sleep 306 & echo spawned');
    expect(bg.stdout).toBe('spawned\n');
    const running = await eventually('the job has started', async () => {
      const o = await s.jobOutput(job.jobId!);
      return o.stdout === 'start inherited /tmp/agent\n' && o;
    });
    expect(running.status).toBe('running');
    await s.run('touch /tmp/agent/go');
    const done = await eventually('the job has ended', async () => {
      const o = await s.jobOutput(job.jobId!);
      return o.status === 'exited' && o;
    });
    expect(done).toMatchObject({
      exitCode: 7,
      stdout: 'start inherited /tmp/agent\nend\n',
      stderr: 'e\n',
      bytes: { stdout: 31, stderr: 2 },
    });
    const since = await s.jobOutput(job.jobId!, { since: { stdout: 27, stderr: 2 } });
    expect(since).toMatchObject({ stdout: 'end\n', stderr: '' });
    const long = await s.run('sleep 307; echo never', { background: true });
    expect(s.jobs().map((j) => j.jobId)).toEqual([job.jobId, long.jobId]);
    await s.kill(long.jobId!);
    expect(processes(container).filter((p) => /sleep 307/.test(p))).toEqual([]);
    expect(await s.jobOutput(long.jobId!)).toMatchObject({ status: 'killed', stdout: '' });
    await expect(s.jobOutput('nope')).rejects.toThrow(/no job "nope"/);
    await s.run('kill %1 2>/dev/null; pkill -f "sleep 306" 2>/dev/null; true');
  });

  it('caps output at head and tail, counts every byte, and says where all of it is', async () => {
    const s = await mgr.openSession('w', { name: 'cap', maxOutputBytes: 1000 });
    const r = await s.run('i=0; while [ $i -lt 3000 ]; do echo "line $i"; i=$((i+1)); done; echo small >&2');
    expect(r.truncated).toBe(true);
    expect(r.bytes).toEqual({ stdout: 28890, stderr: 6 });
    expect(r.stdout.startsWith('line 0\nline 1\n')).toBe(true);
    expect(r.stdout.endsWith('line 2998\nline 2999\n')).toBe(true);
    expect(r.stdout).toContain(
      `[... 27890 of 28890 bytes omitted; all of it is in ${r.fullOutput!.stdout} ...]`,
    );
    expect(r.stderr).toBe('small\n');
    expect(docker('exec', container, 'wc', '-c', r.fullOutput!.stdout)).toMatch(/^28890 /);
  });

  it('costs one idle exec stream and no polling; close ends everything and removes its files', async () => {
    const before = rec.calls.length;
    const s = await mgr.openSession('w', { name: 'idle' });
    await s.run('true');
    const afterOpen = rec.calls.length;
    expect(rec.calls.slice(before)).toEqual(['exec']);
    await new Promise((res) => setTimeout(res, 1500));
    expect(rec.calls.length).toBe(afterOpen);
    const dir = (await s.run('echo "$0"; ls -d /tmp/agent/.agentctl-session-* 2>/dev/null | head -1')).stdout;
    expect(dir).toBeTruthy();
    await s.run('sleep 308', { background: true });
    const keyed = (
      await s.run('cat /proc/$$/environ | tr "\\0" "\\n" | grep AGENTCTL_EXEC_ID')
    ).stdout.trim();
    const key = /AGENTCTL_EXEC_ID=([0-9a-f]+)-/.exec(keyed)![1]!;
    await s.close();
    await expect(s.run('true')).rejects.toThrow(/closed/);
    expect(processes(container).filter((p) => /sleep 308/.test(p) || p.includes(key))).toEqual([]);
    expect(
      docker('exec', container, 'sh', '-c', `ls -d /tmp/agent/.agentctl-session-${key} 2>&1 || true`),
    ).toMatch(/No such file/);
  });

  it('restart() kills the running command and gives a clean shell; AgentManager.close() ends every session', async () => {
    const s = await mgr.openSession('w', { name: 'restart' });
    await s.run('cd /tmp && export R=1');
    const busy = s.run('sleep 309');
    await new Promise((res) => setTimeout(res, 200));
    await s.restart();
    expect((await busy).exitCode).not.toBe(0);
    expect(await s.run('echo "[$R]"; pwd')).toMatchObject({ stdout: '[]\n/mnt\n', restarted: false });
    expect(processes(container).filter((p) => /sleep 309/.test(p))).toEqual([]);
    await mgr.openSession('w', { name: 'extra' });
    expect(mgr.openSessions('w').length).toBeGreaterThanOrEqual(2);
    await mgr.close();
    expect(mgr.openSessions()).toEqual([]);
    await eventually('no session process is left', () =>
      processes(container).every((p) => !/agentctl/.test(p)),
    );
  });
});
