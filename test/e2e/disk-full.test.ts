/**
 * A full disk where the working directories live: a small tmpfs (root only) as the runtime directory,
 * filled. apply must refuse before it changes anything, naming what is short.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentctl } from '../helpers/cli.js';
import { projectContainers } from '../helpers/docker.js';
import { type TestProject, testProject } from '../helpers/project.js';

const root = process.getuid?.() === 0;

describe.skipIf(!root)('a full runtime directory', () => {
  const mounts: string[] = [];
  let p: TestProject | undefined;
  afterAll(() => {
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    p?.cleanup();
  });

  it('refuses before anything changes when space or inodes are short', () => {
    p = testProject('ac9disk');
    const rt = path.join(p.dir, 'runtime');
    mkdirSync(rt);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,nr_inodes=400', 'tmpfs', rt]).status).toBe(0);
    mounts.push(rt);
    p.write('agents:\n  a: {}\n  b: {}', '  network: none');
    // Filled: no bytes left.
    spawnSync('sh', ['-c', `dd if=/dev/zero of=${rt}/fill bs=64k 2>/dev/null; true`]);
    const full = agentctl(['apply'], { cwd: p.dir });
    expect(full.status).toBe(1);
    expect(full.stderr).toMatch(
      /the filesystem of \S+ has only 0 ?B? free \(minimum 100m?i?B?, AGENTCTL_MIN_FREE\)|has only .* free \(minimum/,
    );
    expect(projectContainers(p.project)).toEqual([]);

    // Space back, inodes short: also refused, and the minimum can be configured.
    spawnSync('rm', ['-f', `${rt}/fill`]);
    for (let i = 0; i < 390; i++) writeFileSync(path.join(rt, `f${i}`), '');
    const inodes = agentctl(['apply'], { cwd: p.dir, env: { AGENTCTL_MIN_FREE: '1m' } });
    expect(inodes.status).toBe(1);
    expect(inodes.stderr).toMatch(/inodes free \(minimum 1000, AGENTCTL_MIN_FREE_INODES\)/);
    expect(projectContainers(p.project)).toEqual([]);
  });
});
