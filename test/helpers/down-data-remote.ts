/**
 * A file whose agent `coder` runs on a non-local engine (ssh, TLS), through the built binary: the same
 * file and steps for each transport. `down --data`: The in-use check must ask that engine: a container there
 * that mounts the working directory keeps it (exit 1, named); once that container is gone, the next
 * `down --data` deletes it. The world is asserted on that engine and on disk.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { CliResult } from './cli.js';
import { dockerTryAsync, holdMount, TEST_IMAGE } from './docker.js';
import type { TestDockerd } from './test-dockerd.js';

/**
 * `dir/agents.yaml` of `project`: the given lines under `engines:` (one of them `engine`), and agent
 * `coder` on `engine`, sleeping on the test image with no network.
 */
export function writeCoderOnEngine(
  dir: string,
  project: string,
  engine: string,
  engineLines: string[],
): void {
  writeFileSync(
    path.join(dir, 'agents.yaml'),
    [
      'version: 1',
      `project: ${project}`,
      'runtimeDir: ./rt-local',
      'engines:',
      ...engineLines,
      'agents:',
      '  coder:',
      `    engine: ${engine}`,
      `    image: ${TEST_IMAGE}`,
      '    command: [sleep, "3600"]',
      '    network: none',
      '',
    ].join('\n'),
  );
}

/** `rm coder --data`: the container is gone from that engine, its working directory from disk. */
export async function rmDataOnEngine(
  run: (...args: string[]) => Promise<CliResult>,
  d: TestDockerd,
  workDir: string,
): Promise<void> {
  const rm = await run('rm', 'coder', '--data', '-t', '1');
  expect(rm.status, rm.stdout + rm.stderr).toBe(0);
  expect((await dockerTryAsync('-H', d.host, 'inspect', 'claude-agent-coder')).status).not.toBe(0);
  expect(existsSync(workDir)).toBe(false);
}

/** `holderOn`: the engine the holding container runs on (default: the agent's, `d`). */
export async function downDataOnEngine(
  run: (...args: string[]) => Promise<CliResult>,
  d: TestDockerd,
  engine: string,
  workDir: string,
  holder: string,
  holderOn: TestDockerd = d,
): Promise<void> {
  const up = await run('apply', '-f', 'agents.yaml');
  expect(up.status, up.stdout + up.stderr).toBe(0);
  const w = await run('exec', 'coder', '--', 'sh', '-c', 'echo keep-me > /mnt/data');
  expect(w.status, w.stderr).toBe(0);
  holdMount(holderOn.docker, holder, workDir, '/held:ro');
  try {
    const held = await run('down', '-f', 'agents.yaml', '--data', '-t', '1');
    expect(held.status, held.stdout + held.stderr).toBe(1);
    expect(held.stdout).toContain(`removed claude-agent-coder on engine ${engine}`);
    expect(held.stderr).toContain(
      `kept ${workDir} on engine ${engine}: still mounted by container ${holder}`,
    );
    expect((await dockerTryAsync('-H', d.host, 'inspect', 'claude-agent-coder')).status).not.toBe(0);
    expect(readFileSync(path.join(workDir, 'data'), 'utf8')).toBe('keep-me\n');
  } finally {
    holderOn.docker('rm', '-f', holder);
  }
  const free = await run('down', '-f', 'agents.yaml', '--data', '-t', '1');
  expect(free.status, free.stdout + free.stderr).toBe(0);
  expect(free.stdout).toContain(`deleted ${workDir} on engine ${engine}`);
  expect(existsSync(workDir)).toBe(false);
}
