/**
 * Test helpers that look at the world through the docker CLI (never through agentctl's own port), so
 * integration tests assert the engine's state rather than the calls agentctl made.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { runAsync } from './cli.js';

export const TEST_IMAGE = 'agentctl-test-busybox:latest';

export function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** As docker(), without blocking the test worker (a build, or many calls in a row). */
export async function dockerAsync(...args: string[]): Promise<string> {
  const r = await runAsync('docker', args);
  if (r.status !== 0)
    throw new Error(`docker ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Like docker(), but returns the exit status and both streams instead of throwing. */
export function dockerTry(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

/** As dockerTry(), without blocking the test worker. */
export async function dockerTryAsync(
  ...args: string[]
): Promise<{ status: number; stdout: string; stderr: string }> {
  const r = await runAsync('docker', args);
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Inspect = any;

export function inspect(nameOrId: string): Inspect {
  return (JSON.parse(docker('inspect', '--type', 'container', nameOrId)) as Inspect[])[0];
}

export function exists(nameOrId: string): boolean {
  return dockerTry('inspect', '--type', 'container', nameOrId).status === 0;
}

/**
 * One line per container (any state) of a project, as `format` shows it, sorted: on the machine's
 * engine, or on `on` (a test's own dockerd).
 */
export function projectPs(
  project: string,
  format: string,
  on: { docker(...args: string[]): string } = { docker },
): string[] {
  const out = on.docker('ps', '-a', '--filter', `label=agentctl.project=${project}`, '--format', format);
  return out.split('\n').filter(Boolean).sort();
}

/** Names of all containers (any state) of a project. */
export function projectContainers(project: string): string[] {
  return projectPs(project, '{{.Names}}');
}

export function removeProjectContainers(project: string): void {
  const ids = docker('ps', '-aq', '--filter', `label=agentctl.project=${project}`);
  if (ids) dockerTry('rm', '-f', ...ids.split('\n'));
}

/**
 * Starts a container of the test image (sleeping, no network) named `name` that bind-mounts `source` at
 * `target` (`/held:ro`): a working directory in use, for the checks of rm, down, cleanup and --migrate
 * that keep what any container still mounts. `run` is the engine's CLI (a TestDockerd's docker(), or
 * docker() here for the machine's engine).
 */
export function holdMount(
  run: (...args: string[]) => string,
  name: string,
  source: string,
  target: string,
): void {
  run(
    'run',
    '-d',
    '--name',
    name,
    '--network',
    'none',
    '-v',
    `${source}:${target}`,
    TEST_IMAGE,
    'sleep',
    '3600',
  );
}
