/**
 * Two engines of this machine that their addresses do not tell apart from two machines: `local` (a
 * private dockerd) and `lab`, a dockerd over TLS at a name of this machine that only /etc/hosts knows
 * (an alias the test adds and removes). By address, `lab` is another machine whose containers cannot
 * mount `local`'s working directories, and the in-use check would not ask it; both dockerds say the
 * same host name in /info, so it is asked. Through the built binary; the world is asserted on the
 * engines and on disk.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { holdMount } from '../helpers/docker.js';
import { downDataOnEngine, writeCoderOnEngine } from '../helpers/down-data-remote.js';
import { type TestDockerd, testDockerd } from '../helpers/test-dockerd.js';
import { tlsDockerd, type TlsDockerd } from '../helpers/tls-dockerd.js';

const PROJECT = `i13-ident-${process.pid}`;
const ALIAS = `agentctl-lab-${process.pid}.test`;
const HOSTS = '/etc/hosts';
const HOSTS_LINE = `127.0.0.1 ${ALIAS}`;

/** Adds (or removes) the alias line; /etc/hosts is written in place (it may be a bind mount). */
function alias(add: boolean): void {
  const lines = readFileSync(HOSTS, 'utf8')
    .split('\n')
    .filter((l) => l !== HOSTS_LINE);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  writeFileSync(HOSTS, [...lines, ...(add ? [HOSTS_LINE] : []), ''].join('\n'));
}

describe('engines of one machine by the host name they give, whatever their addresses (built binary)', () => {
  let local: TestDockerd | undefined;
  let lab: TlsDockerd | undefined;
  let dir = '';
  const workDir = () => path.join(dir, 'rt-local', 'agent-working-directory', 'coder');
  const holder = `${PROJECT}-holder`;

  beforeAll(async () => {
    alias(true);
    local = testDockerd('i13ida');
    [lab] = await Promise.all([
      tlsDockerd('i13idb', { name: 'i13idb0', cidr: '10.213.57.1/24' }, [ALIAS]),
      local.start(),
    ]);
    await local.loadTestImage();
    dir = mkdtempSync('/tmp/i13-ident-');
    const { tls, port } = lab;
    writeCoderOnEngine(dir, PROJECT, 'local', [
      '  lab:',
      `    host: "tcp://${ALIAS}:${port}"`,
      `    runtimeDir: ${path.join(dir, 'rt-lab')}`,
      `    tls: { ca: "${tls.ca}", cert: "${tls.clientCert}", key: "${tls.clientKey}" }`,
    ]);
  }, 240_000);

  afterAll(async () => {
    await Promise.all([lab?.cleanup(), local?.cleanup()]);
    alias(false);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  const run = (...args: string[]) =>
    agentctlAsync(args, {
      cwd: dir,
      env: { DOCKER_HOST: local!.host, AGENTCTL_LOCK_DIR: path.join(dir, 'locks') },
    });

  it('rm --data and down --data keep a local directory that a container of lab (this host, by an alias) mounts', async () => {
    const { d } = lab!;
    // The premise: both dockerds say the one name of this machine (lab's address is not one of it).
    expect(d.docker('info', '-f', '{{.Name}}')).toBe(local!.docker('info', '-f', '{{.Name}}'));
    const up = await run('apply', '-f', 'agents.yaml');
    expect(up.status, up.stdout + up.stderr).toBe(0);
    const w = await run('exec', 'coder', '--', 'sh', '-c', 'echo keep-me > /mnt/data');
    expect(w.status, w.stderr).toBe(0);
    holdMount(d.docker, holder, workDir(), '/held:ro');
    try {
      const rm = await run('rm', 'coder', '--data', '-t', '1', '-f', 'agents.yaml');
      expect(rm.status, rm.stdout + rm.stderr).toBe(1);
      expect(rm.stderr).toContain(
        `container removed, but ${workDir()} is still mounted by container ${holder} on engine lab; not deleting it`,
      );
      expect(local!.ok('inspect', 'claude-agent-coder')).toBe(false);
      expect(readFileSync(path.join(workDir(), 'data'), 'utf8')).toBe('keep-me\n');
    } finally {
      d.docker('rm', '-f', holder);
    }
    // down --data: kept while the container of lab mounts it, deleted once it is gone.
    await downDataOnEngine(run, local!, 'local', workDir(), holder, d);
  }, 300_000);
});
