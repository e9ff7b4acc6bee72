/**
 * The README's ways of getting `agentctl` on the PATH, done for real into a throwaway npm prefix: the
 * packed tarball (what a package install gets: only `files` from package.json) and `npm install -g .`
 * from the clone. Each must give a bare `agentctl` that runs; the tarball's must work from its own files
 * and dependencies (dockerode, loaded on demand, is installed with it).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAsync } from '../helpers/cli.js';

const REPO = path.resolve('.');
const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string })
  .version;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'agentctl-install-'));
// Asynchronously: the two npm prefixes hold a whole node_modules each (12 s of blocking rmSync, measured).
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** Runs `cmd` in the clone (or `cwd`) without blocking the test worker: an npm install takes most of a minute. */
function sh(cmd: string, args: string[], env: Record<string, string> = {}, cwd = REPO) {
  return runAsync(cmd, args, {
    cwd,
    env: { npm_config_audit: 'false', npm_config_fund: 'false', ...env },
    timeout: 240_000,
  });
}

/** Runs a bare `agentctl` found on a PATH that holds only the prefix's bin and node's own directory. */
function onPath(prefix: string, args: string[]) {
  const PATH = [path.join(prefix, 'bin'), path.dirname(process.execPath), '/usr/bin', '/bin'].join(':');
  return sh('agentctl', args, { PATH, NO_COLOR: '1' }, tmp);
}

// npm installs the tarball's dependencies (from its cache when it can): slow on a loaded 2-core machine.
const INSTALL_TIMEOUT_MS = 300_000;

describe('installing agentctl as the README says (real npm)', () => {
  it(
    'npm pack, then npm install -g of the tarball: agentctl is on the PATH and works',
    async () => {
      const packed = await sh('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp]);
      expect(packed.status, packed.stderr).toBe(0);
      const tarball = path.join(tmp, packed.stdout.trim().split('\n').pop() ?? '');
      const prefix = path.join(tmp, 'prefix-tarball');
      const inst = await sh('npm', ['install', '-g', '--prefer-offline', '--prefix', prefix, tarball]);
      expect(inst.status, inst.stderr).toBe(0);

      const v = await onPath(prefix, ['--version']);
      expect(v.status, v.stderr).toBe(0);
      expect(v.stdout.trim()).toContain(VERSION);
      // The installed package works from its own files and dependencies, with no Docker needed:
      const file = path.join(tmp, 'agents.yaml');
      writeFileSync(file, 'version: 1\nagents:\n  a: {}\n');
      const validate = await onPath(prefix, ['validate', '-f', file]);
      expect(validate.status, validate.stderr).toBe(0);
      // and the engine client, which the CLI loads on demand, came with it.
      const pkgDir = path.join(prefix, 'lib', 'node_modules', 'agentctl');
      const dockerode = await sh(
        process.execPath,
        ['-e', "import('dockerode').then(() => console.log('ok'))"],
        {},
        pkgDir,
      );
      expect(dockerode.stdout.trim(), dockerode.stderr).toBe('ok');
    },
    INSTALL_TIMEOUT_MS,
  );

  it(
    'npm install -g . from the clone links agentctl onto the PATH',
    async () => {
      const prefix = path.join(tmp, 'prefix-clone');
      const inst = await sh('npm', ['install', '-g', '--ignore-scripts', '--prefix', prefix, '.']);
      expect(inst.status, inst.stderr).toBe(0);
      const v = await onPath(prefix, ['--version']);
      expect(v.status, v.stderr).toBe(0);
      expect(v.stdout.trim()).toContain(VERSION);
    },
    INSTALL_TIMEOUT_MS,
  );
});
