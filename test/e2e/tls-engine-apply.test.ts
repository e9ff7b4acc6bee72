/**
 * `apply -f` of a file whose agent runs on an engine reached over TLS, through the built binary: a
 * private dockerd with --tlsverify on 127.0.0.1 (host network namespace, a bridge of its own, never
 * `--bridge none`), certificates made by the test (test-tls.ts). The engine is on this host, so its
 * working directories are made on this disk; exec goes over TLS.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { downDataOnEngine, rmDataOnEngine, writeCoderOnEngine } from '../helpers/down-data-remote.js';
import type { TestDockerd } from '../helpers/test-dockerd.js';
import { tlsDockerd, type TlsDockerd } from '../helpers/tls-dockerd.js';

const PROJECT = `i13-tlsapply-${process.pid}`;

describe('apply -f onto an engine over TLS (built binary)', () => {
  let engineTls: TlsDockerd | undefined;
  let d: TestDockerd;
  let dir: string;
  const rt = () => path.join(dir, 'rt-lab');
  const workDir = () => path.join(rt(), 'agent-working-directory', 'coder');

  beforeAll(async () => {
    engineTls = await tlsDockerd('i13-tlsa', { name: 'i13tla0', cidr: '10.213.14.1/24' });
    const { tls, port } = engineTls;
    d = engineTls.d;
    dir = mkdtempSync('/tmp/i13-tlsapply-');
    writeCoderOnEngine(dir, PROJECT, 'lab', [
      '  lab:',
      `    host: "tcp://127.0.0.1:${port}"`,
      `    runtimeDir: ${rt()}`,
      `    tls: { ca: "${tls.ca}", cert: "${tls.clientCert}", key: "${tls.clientKey}" }`,
    ]);
  }, 180_000);

  afterAll(async () => {
    await engineTls?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  const run = (...args: string[]) => agentctlAsync(args, { cwd: dir });

  it('apply brings the agent up there, diff is then in sync, exec and rm --data work over TLS', async () => {
    const r = await run('apply', '-f', 'agents.yaml');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(d.docker('inspect', '-f', '{{.State.Running}}', 'claude-agent-coder')).toBe('true');
    const st = statSync(workDir());
    expect([st.uid, st.mode & 0o777]).toEqual([1000, 0o755]);
    const again = await run('diff', '-f', 'agents.yaml');
    expect(again.status, again.stdout + again.stderr).toBe(0);
    const e = await run('exec', 'coder', '--', 'sh', '-c', 'echo over-tls > /mnt/note');
    expect(e.status, e.stderr).toBe(0);
    expect(readFileSync(path.join(workDir(), 'note'), 'utf8')).toBe('over-tls\n');
    await rmDataOnEngine(run, d, workDir());
  }, 300_000);

  it('down --data over TLS: a directory a container on that engine mounts is kept, deleted once free', async () => {
    await downDataOnEngine(run, d, 'lab', workDir(), `${PROJECT}-holder`);
  }, 300_000);
});
