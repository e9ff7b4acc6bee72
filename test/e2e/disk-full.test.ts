/**
 * A full disk where the working directories live: a small tmpfs (root only) as the runtime directory,
 * filled. apply must refuse before it creates anything, naming what is short; a run that creates nothing
 * only warns; ps and inspect show the pressure; --min-free and --min-free-inodes override the environment.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { projectContainers } from '../helpers/docker.js';
import { type TestProject, testProject } from '../helpers/project.js';

const root = process.getuid?.() === 0;

describe.skipIf(!root)('a full runtime directory', () => {
  const mounts: string[] = [];
  const projects: TestProject[] = [];
  afterAll(() => {
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    for (const p of projects) p.cleanup();
  });
  const project = (tag: string) => {
    const p = testProject(tag);
    projects.push(p);
    return p;
  };

  it('refuses before anything changes when space or inodes are short', async () => {
    const p = project('ac9disk');
    const rt = path.join(p.dir, 'runtime');
    mkdirSync(rt);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,nr_inodes=400', 'tmpfs', rt]).status).toBe(0);
    mounts.push(rt);
    p.write('agents:\n  a: {}\n  b: {}', '  network: none');
    // Filled: no bytes left.
    spawnSync('sh', ['-c', `dd if=/dev/zero of=${rt}/fill bs=64k 2>/dev/null; true`]);
    const full = await agentctlAsync(['apply'], { cwd: p.dir });
    expect(full.status).toBe(1);
    expect(full.stderr).toMatch(
      /the filesystem of \S+ has only 0 ?B? free \(minimum 100m?i?B?, AGENTCTL_MIN_FREE\)|has only .* free \(minimum/,
    );
    expect(projectContainers(p.project)).toEqual([]);

    // Space back, inodes short: also refused, and the minimum can be configured.
    spawnSync('rm', ['-f', `${rt}/fill`]);
    for (let i = 0; i < 390; i++) writeFileSync(path.join(rt, `f${i}`), '');
    const inodes = await agentctlAsync(['apply'], { cwd: p.dir, env: { AGENTCTL_MIN_FREE: '1m' } });
    expect(inodes.status).toBe(1);
    expect(inodes.stderr).toMatch(/inodes free \(minimum 1000, AGENTCTL_MIN_FREE_INODES\)/);
    expect(projectContainers(p.project)).toEqual([]);
    // The flags win over the environment: with them the same run passes.
    const flags = await agentctlAsync(
      ['apply', '--min-free', '1m', '--min-free-inodes', '5', '--wait-ready', '0'],
      {
        cwd: p.dir,
        env: { AGENTCTL_MIN_FREE: '1g', AGENTCTL_MIN_FREE_INODES: '100000' },
      },
    );
    expect(flags.status, flags.stderr).toBe(0);
    expect(projectContainers(p.project)).toHaveLength(2);
  });

  it('a run that creates nothing warns on a full disk; one that creates refuses; ps and inspect show it', async () => {
    const p = project('ac9disk2');
    const rt = path.join(p.dir, 'runtime');
    mkdirSync(rt);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,nr_inodes=4000', 'tmpfs', rt]).status).toBe(0);
    mounts.push(rt);
    const small = { AGENTCTL_MIN_FREE: '1m' };
    p.write('agents:\n  a: {}', '  network: none');
    const made = await agentctlAsync(['apply', '--wait-ready', '0'], { cwd: p.dir, env: small });
    expect(made.status, made.stderr).toBe(0);

    // Close to the minimum (about 4 MiB free, less than twice 3 MiB): flagged as low.
    const low = await agentctlAsync(['ps'], { cwd: p.dir, env: { AGENTCTL_MIN_FREE: '3m' } });
    expect(low.status, low.stderr).toBe(0);
    expect(low.stderr).toMatch(
      /^disk low: .* free on the filesystem of \S+: close to apply's minimum 3 ?MiB/m,
    );
    const fine = await agentctlAsync(['ps'], { cwd: p.dir, env: small });
    expect(fine.stderr).not.toMatch(/disk/i);

    spawnSync('sh', ['-c', `dd if=/dev/zero of=${rt}/fill bs=64k 2>/dev/null; true`]);
    // Nothing to create: the no-op passes, with a warning that agents writing /mnt may fail.
    const noop = await agentctlAsync(['apply', '--wait-ready', '0'], { cwd: p.dir, env: small });
    expect(noop.status, noop.stderr).toBe(0);
    expect(noop.stderr).toMatch(
      /^warning: runtime directory: the filesystem of \S+ has only 0 ?B free \(minimum 1 ?MiB, AGENTCTL_MIN_FREE\); this run creates nothing, but agents writing \/mnt there may fail/m,
    );
    // A new agent: refused, naming the flag that set the minimum; nothing made.
    p.write('agents:\n  a: {}\n  b: {}', '  network: none');
    const create = await agentctlAsync(['apply', '--min-free', '1m'], { cwd: p.dir });
    expect(create.status).toBe(1);
    expect(create.stderr).toMatch(/has only 0 ?B free \(minimum 1 ?MiB, --min-free\)/);
    expect(projectContainers(p.project)).toEqual([`${p.prefix}a`]);

    const ps = await agentctlAsync(['ps'], { cwd: p.dir, env: small });
    expect(ps.stdout).toMatch(/^a /m);
    expect(ps.stderr).toMatch(
      /^DISK SHORT: 0 ?B, \d+ inodes free on the filesystem of \S+: below apply's minimum 1 ?MiB, 1000 inodes/m,
    );
    const json = JSON.parse(
      (await agentctlAsync(['ps', '-o', 'json'], { cwd: p.dir, env: small })).stdout,
    ) as {
      agent: string;
      filesystem: { freeBytes: number; freeInodes: number; minFreeBytes: number; pressure: string };
    }[];
    const rows = Object.fromEntries(json.map((r) => [r.agent, r.filesystem]));
    expect(rows.a).toMatchObject({ freeBytes: 0, minFreeBytes: 1024 ** 2, pressure: 'short' });
    expect(rows.b).toEqual(rows.a);
    expect(rows.a?.freeInodes).toBeGreaterThan(0);

    const inspect = await agentctlAsync(['inspect', 'a'], { cwd: p.dir, env: small });
    expect(inspect.status, inspect.stderr).toBe(0);
    expect(inspect.stdout).toMatch(/^disk free: +DISK SHORT: 0 ?B, \d+ inodes free on the filesystem of /m);
    const record = JSON.parse(
      (await agentctlAsync(['inspect', 'a', '-o', 'json'], { cwd: p.dir, env: small })).stdout,
    ) as {
      filesystem: { path: string; pressure: string };
    };
    expect(record.filesystem).toMatchObject({ path: p.workDir('a'), pressure: 'short' });
  });
});
