/**
 * A dockerd of the test's own (test-dockerd.ts) with one throwaway project, for tests that interrupt,
 * kill or restart the engine: nobody else's containers are ever on it. Call at describe level: it
 * registers the beforeAll (start, load the test image, make the project) and the afterAll (remove both).
 */
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type TestProject, testProject } from './project.js';
import { type TestDockerd, testDockerd } from './test-dockerd.js';

export interface OwnEngineProject {
  readonly engine: TestDockerd;
  readonly p: TestProject;
  /** The CLI's lock directory, in the engine's root (so that no other run's locks are seen). */
  readonly locks: string;
  /** DOCKER_HOST and AGENTCTL_LOCK_DIR, for the CLI's environment. */
  readonly env: Record<string, string>;
}

export function ownEngineProject(engineTag: string, projectTag: string): OwnEngineProject {
  let engine: TestDockerd | undefined;
  let p: TestProject | undefined;
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`ownEngineProject: ${what} before beforeAll`);
    return v;
  };
  beforeAll(async () => {
    engine = testDockerd(engineTag);
    await engine.start();
    await engine.loadTestImage();
    p = testProject(projectTag);
  });
  afterAll(async () => {
    await engine?.cleanup();
    p?.cleanup();
  });
  return {
    get engine() {
      return need(engine, 'engine');
    },
    get p() {
      return need(p, 'project');
    },
    get locks() {
      return path.join(need(engine, 'engine').root, 'locks');
    },
    get env() {
      return { DOCKER_HOST: need(engine, 'engine').host, AGENTCTL_LOCK_DIR: this.locks };
    },
  };
}
