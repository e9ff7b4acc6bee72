/** The engine port's less common paths, against the real engine. */
import { spawn } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { processStart } from '../../src/util/process-start.js';
import { appliedProject, type TestProject } from '../helpers/project.js';
import { DockerEngine } from '../../src/docker/engine.js';
import { docker, dockerTry, exists, TEST_IMAGE } from '../helpers/docker.js';

describe('DockerEngine.readImageFile (real engine)', () => {
  const engine = new DockerEngine();
  afterEach(() => vi.restoreAllMocks());

  it("reads a file from an image's filesystem and leaves no container behind", async () => {
    // Only this process's throwaway containers: other test files read images at the same time.
    const mine = `label=agentctl.scratch.owner=${process.pid}:${processStart(process.pid) ?? ''}`;
    const passwd = await engine.readImageFile(TEST_IMAGE, '/etc/passwd');
    expect(passwd?.toString()).toContain('agent:x:1000:1000:');
    expect(await engine.readImageFile(TEST_IMAGE, '/no/such/file')).toBeUndefined();
    expect(docker('ps', '-aq', '--filter', mine)).toBe('');
  });

  it('removes throwaway containers a killed run left behind, once they are stale', async () => {
    const leftover = docker('create', '--label', 'agentctl.scratch=true', TEST_IMAGE);
    try {
      await engine.readImageFile(TEST_IMAGE, '/etc/group');
      expect(exists(leftover)).toBe(true); // fresh: it may belong to a run in flight
      const now = Date.now();
      vi.spyOn(Date, 'now').mockReturnValue(now + 120_000);
      await engine.readImageFile(TEST_IMAGE, '/etc/group');
      expect(exists(leftover)).toBe(false);
    } finally {
      dockerTry('rm', '-f', leftover);
    }
  });
});

describe('throwaway containers of a killed run', () => {
  const projects: TestProject[] = [];
  afterAll(() => projects.forEach((p) => p.cleanup()));

  it('are removed by the next apply at once when their creator is gone; a live creator keeps its own', async () => {
    // As a run killed between create and remove leaves it: labelled with its (now dead) pid and start.
    const child = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => child.on('exit', r));
    const owner = (pid: number, start: string) => [
      '--label',
      'agentctl.scratch=true',
      '--label',
      `agentctl.scratch.owner=${pid}:${start}`,
      TEST_IMAGE,
      '/agentctl-never-started',
    ];
    const dead = docker('create', ...owner(child.pid as number, '12345'));
    // A reused pid: this very process, but not started then.
    const reused = docker('create', ...owner(process.pid, '1'));
    const live = docker('create', ...owner(process.pid, processStart(process.pid) as string));
    try {
      await appliedProject(projects, 'ac9scratch', 'agents:\n  a: {}');
      expect(exists(dead)).toBe(false);
      expect(exists(reused)).toBe(false);
      expect(exists(live)).toBe(true);
    } finally {
      dockerTry('rm', '-f', dead, reused, live);
    }
  });
});
