/** The engine port's less common paths, against the real engine. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DockerEngine } from '../../src/docker/engine.js';
import { docker, dockerTry, exists, TEST_IMAGE } from '../helpers/docker.js';

describe('DockerEngine.readImageFile (real engine)', () => {
  const engine = new DockerEngine();
  afterEach(() => vi.restoreAllMocks());

  it("reads a file from an image's filesystem and leaves no container behind", async () => {
    const before = docker('ps', '-aq', '--filter', 'label=agentctl.scratch');
    const passwd = await engine.readImageFile(TEST_IMAGE, '/etc/passwd');
    expect(passwd?.toString()).toContain('agent:x:1000:1000:');
    expect(await engine.readImageFile(TEST_IMAGE, '/no/such/file')).toBeUndefined();
    // Stale leftovers of other runs may have been cleaned up meanwhile; nothing new may remain.
    const after = docker('ps', '-aq', '--filter', 'label=agentctl.scratch').split('\n').filter(Boolean);
    expect(after.filter((id) => !before.includes(id))).toEqual([]);
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
