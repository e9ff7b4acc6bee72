/**
 * A throwaway project for one test: a temp directory with an agents.yaml, a unique project name and a
 * unique container name prefix, so tests never see each other's (or anyone else's) containers.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { reconcile } from '../../src/ops/reconcile.js';
import type { DesiredState } from '../../src/types.js';
import { removeProjectContainers, TEST_IMAGE } from './docker.js';

export interface TestProject {
  dir: string;
  file: string;
  project: string;
  prefix: string;
  /** Writes agents.yaml with the standard header and the given `agents:` block (and extra top-level YAML). */
  write(agentsYaml: string, extraTop?: string): void;
  load(): Promise<DesiredState>;
  workDir(agentId: string): string;
  cleanup(): void;
}

/** An `agents:` block of the given ids, each with nothing but the defaults. */
export function agentsBlock(ids: string[]): string {
  return `agents:\n${ids.map((id) => `  ${id}: {}`).join('\n')}`;
}

export function testProject(tag = 't'): TestProject {
  const project = `${tag}-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), `agentctl-${project}-`));
  const file = path.join(dir, 'agents.yaml');
  const prefix = `${project}-`;
  return {
    dir,
    file,
    project,
    prefix,
    write(agentsYaml, extraTop = '') {
      const header = [
        'version: 1',
        `project: ${project}`,
        `namePrefix: ${prefix}`,
        'runtimeDir: ./runtime',
        'defaults:',
        `  image: ${TEST_IMAGE}`,
        '  memory: 64m',
        '  cpus: 0.5',
        extraTop,
      ].join('\n');
      writeFileSync(file, `${header}\n${agentsYaml}\n`);
    },
    load: () => loadConfig(file),
    workDir: (id) => path.join(dir, 'runtime', 'agent-working-directory', id),
    cleanup() {
      removeProjectContainers(project);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * For a describe block: `project(tag)` makes a testProject that is cleaned up after the test that made
 * it (registers the afterEach; call it at describe level).
 */
export function testProjects(): (tag: string) => TestProject {
  const projects: TestProject[] = [];
  afterEach(() => {
    for (const p of projects.splice(0)) p.cleanup();
  });
  return (tag) => {
    const p = testProject(tag);
    projects.push(p);
    return p;
  };
}

/**
 * A new project (tracked in `projects` for cleanup) whose agents, on network none, are applied and
 * running: every action must have succeeded.
 */
export async function appliedProject(
  projects: TestProject[],
  tag: string,
  agents: string,
): Promise<TestProject> {
  const p = testProject(tag);
  projects.push(p);
  p.write(agents, '  network: none');
  const { report } = await reconcile(await p.load());
  expect(report.results.filter((r) => !r.ok)).toEqual([]);
  return p;
}
