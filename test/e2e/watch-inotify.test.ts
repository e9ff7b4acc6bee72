/**
 * apply --watch where the user's inotify instances are all taken: it fails at once, naming the limit,
 * instead of saying it watches the file while it sees no change (chokidar reports the refusal and gets
 * ready anyway). Run as a throwaway uid (65534) whose instances a helper takes first, so that no other
 * program's limit (root's, the engine's) is touched; the helper is a python3 inotify_init loop, as
 * node's watches share one instance per process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';

const UID = '65534';
const PYTHON = '/usr/bin/python3';
const canRun =
  process.getuid?.() === 0 && existsSync(PYTHON) && spawnSync('setpriv', ['--help']).status === 0;
const asNobody = ['--reuid', UID, '--regid', UID, '--clear-groups'];

const HOLD = `
import ctypes, sys, time
libc = ctypes.CDLL("libc.so.6", use_errno=True)
fds = []
while True:
    fd = libc.inotify_init()
    if fd < 0:
        break
    fds.append(fd)
print(len(fds), flush=True)
time.sleep(60)
`;

describe.skipIf(!canRun)('apply --watch without an inotify instance', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-inotify-'));
  chmodSync(dir, 0o755);
  const holder = spawn('setpriv', [...asNobody, PYTHON, '-c', HOLD], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  afterAll(() => {
    holder.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails at once, naming fs.inotify.max_user_instances', async () => {
    const held = await new Promise<number>((resolve) =>
      holder.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString()))),
    );
    const limit = Number(
      spawnSync('cat', ['/proc/sys/fs/inotify/max_user_instances'], { encoding: 'utf8' }).stdout,
    );
    expect(held).toBe(limit);
    const file = path.join(dir, 'agents.yaml');
    writeFileSync(file, 'version: 1\nproject: inotify-t\nagents:\n  a: {}\n', { mode: 0o644 });
    const r = spawnSync('setpriv', [...asNobody, process.execPath, CLI, 'apply', '--watch', '-f', file], {
      encoding: 'utf8',
      env: { ...process.env, HOME: dir, NO_COLOR: '1' },
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `agentctl: cannot watch ${file}: the kernel refused an inotify instance: this user's instances are all taken (fs.inotify.max_user_instances is ${limit};`,
    );
    // It never got as far as saying it watches.
    expect(r.stdout).not.toMatch(/watching/);
  });
});
