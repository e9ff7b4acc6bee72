/**
 * `apply -f` of a file whose agent runs on an engine reached over ssh, end to end through the built
 * binary: a loopback sshd of the test's own (test-sshd.ts) whose sessions' `docker` reaches a private
 * dockerd (test-dockerd.ts). The agent's working directory is made on that engine's runtimeDir by the
 * remote HostFs helper (a container on that engine); exec, inspect, rm --data and down --data go to that
 * engine, whose containers the in-use check asks.
 * The local engine (DOCKER_HOST) is only listed, for the project's name, which nothing else uses.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { downDataOnEngine, rmDataOnEngine, writeCoderOnEngine } from '../helpers/down-data-remote.js';
import { SSHD, testSshd, type TestSshd } from '../helpers/test-sshd.js';
import { testDockerd, type TestDockerd } from '../helpers/test-dockerd.js';

const haveSshd = existsSync(SSHD);
if (!haveSshd) console.warn(`SKIPPED: the ssh engine apply test needs ${SSHD} (Debian's openssh-server)`);

const PROJECT = `i13-sshapply-${process.pid}`;

describe.skipIf(!haveSshd)('apply -f onto an engine over ssh (built binary, loopback sshd)', () => {
  let d: TestDockerd;
  let sshd: TestSshd;
  let dir: string;
  const rt = () => path.join(dir, 'rt-gpu');
  const workDir = () => path.join(rt(), 'agent-working-directory', 'coder');

  beforeAll(async () => {
    d = testDockerd('i13s');
    await d.start();
    await d.loadTestImage();
    sshd = await testSshd('i13s', { dockerHost: d.host });
    dir = mkdtempSync('/tmp/i13-sshapply-');
    writeCoderOnEngine(dir, PROJECT, 'gpu', [
      `  gpu: { host: "ssh://root@127.0.0.1:${sshd.port}", runtimeDir: ${rt()} }`,
    ]);
  }, 180_000);

  afterAll(async () => {
    await sshd?.cleanup();
    await d?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  // HOME holds the known_hosts entry and the authorized key; no ssh-agent of the machine's.
  const run = (...args: string[]) =>
    agentctlAsync(args, { cwd: dir, env: { HOME: sshd.home, SSH_AUTH_SOCK: undefined } });

  it('diff plans the create on engine gpu', async () => {
    const r = await run('diff', '-f', 'agents.yaml', '-o', 'json');
    expect(r.status, r.stderr).toBe(2);
    const plan = JSON.parse(r.stdout) as { actions: { kind: string; agent: string; engine: string }[] };
    expect(plan.actions.map((a) => `${a.engine}:${a.kind}:${a.agent}`)).toEqual(['gpu:create:coder']);
  }, 120_000);

  it('apply brings the agent up on that engine, its working directory made there by the helper', async () => {
    const r = await run('apply', '-f', 'agents.yaml');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(d.docker('inspect', '-f', '{{.State.Running}}', 'claude-agent-coder')).toBe('true');
    expect(
      d.docker(
        'inspect',
        '-f',
        '{{range .Mounts}}{{if eq .Destination "/mnt"}}{{.Source}}{{end}}{{end}}',
        'claude-agent-coder',
      ),
    ).toBe(workDir());
    // Made on the engine's host as on a local one: owned by the agent's user (the default, uid 1000),
    // inside agent-working-directory, which only root may enter.
    const st = statSync(workDir());
    expect(st.isDirectory()).toBe(true);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([1000, 1000, 0o755]);
    expect(statSync(path.dirname(workDir())).mode & 0o777).toBe(0o700);
    // By the helper on that engine: its image is there (nothing of it was asked of the local engine).
    expect(d.docker('images', '--format', '{{.Repository}}')).toMatch(/host-fs/);
    const again = await run('diff', '-f', 'agents.yaml');
    expect(again.status, again.stdout + again.stderr).toBe(0);
  }, 300_000);

  it('exec and inspect reach the agent over ssh', async () => {
    const r = await run('exec', 'coder', '--', 'sh', '-c', 'id -u; echo over-ssh > /mnt/note');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1000\n');
    expect(r.status).toBe(0);
    expect(readFileSync(path.join(workDir(), 'note'), 'utf8')).toBe('over-ssh\n');
    const i = await run('inspect', 'coder', '-o', 'json');
    expect(i.status, i.stderr).toBe(0);
    const rec = JSON.parse(i.stdout) as { engine: string; workDir: string; disk: { bytes: number } };
    expect(rec.engine).toBe('gpu');
    expect(rec.workDir).toBe(workDir());
    // Measured on the engine's host by the helper.
    expect(rec.disk.bytes).toBeGreaterThan(0);
  }, 120_000);

  it('rm --data removes the container and, through the helper, its working directory', async () => {
    await rmDataOnEngine(run, d, workDir());
  }, 120_000);

  it('down --data over ssh: a directory a container on that engine mounts is kept, deleted once free', async () => {
    await downDataOnEngine(run, d, 'gpu', workDir(), `${PROJECT}-holder`);
  }, 300_000);
});
