/**
 * Two private dockerds for tests of a file with several engines: `a` plays `local` (its port is passed
 * as the local port, so the machine's engine is never touched), `b` is another engine at its unix
 * socket with its own runtimeDir. Each runs in its own network namespace (test-dockerd.ts), agents use
 * `network: none`. One temporary directory holds both runtimeDirs and the file.
 *
 * Use: `const t = twoEngines('i13x')` at describe level, `beforeAll(t.start, 180_000)`,
 * `afterAll(t.cleanup, 120_000)`, then `t.file(project, ['  x: {}', '  y: { engine: b }'])`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { DockerEngine } from '../../src/docker/engine.js';
import type { DesiredState } from '../../src/types.js';
import { TEST_IMAGE } from './docker.js';
import { type TestDockerd, testDockerd } from './test-dockerd.js';

export interface TwoEngines {
  /** Starts both dockerds (in parallel), loads the test image into each, makes the directory. */
  start(): Promise<void>;
  cleanup(): Promise<void>;
  /** dockerd A (engine `local`) and dockerd B (engine `b`). */
  readonly a: TestDockerd;
  readonly b: TestDockerd;
  /** The port of dockerd A, to pass as `port` (the local engine). */
  readonly localPort: DockerEngine;
  /** The temporary directory (the file's directory). */
  readonly dir: string;
  /** The runtimeDir of `local` (on A) and of `b`. */
  rtA(): string;
  rtB(): string;
  /** `<rt>/agent-working-directory/<id>`. */
  workDir(rt: string, id: string): string;
  /**
   * A file of `project` with engine `b` (and `extraEngines` lines under `engines:`), defaults that
   * make a sleeping root agent with no network, and `agents` lines under `agents:`.
   */
  file(project: string, agents: string[], extraEngines?: string[]): DesiredState;
  /** The file's text, for tests that write it to disk and run the binary. */
  fileText(project: string, agents: string[], extraEngines?: string[]): string;
  /** `NAME STATE` of the project's containers on an engine, sorted. */
  names(e: TestDockerd, project: string): string[];
  /** The host source of a container's /mnt. */
  mountOf(e: TestDockerd, name: string): string;
}

export function twoEngines(tag: string): TwoEngines {
  let a: TestDockerd | undefined;
  let b: TestDockerd | undefined;
  let dir: string | undefined;
  let localPort: DockerEngine | undefined;
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`twoEngines: ${what} before start()`);
    return v;
  };
  const t: TwoEngines = {
    async start() {
      a = testDockerd(`${tag}a`);
      b = testDockerd(`${tag}b`);
      await Promise.all([a.start(), b.start()]);
      await a.loadTestImage();
      await b.loadTestImage();
      localPort = new DockerEngine({ socketPath: a.host.slice('unix://'.length) });
      dir = mkdtempSync(`/tmp/${tag}-engines-`);
    },
    async cleanup() {
      await Promise.all([a?.cleanup(), b?.cleanup()]);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
    get a() {
      return need(a, 'a');
    },
    get b() {
      return need(b, 'b');
    },
    get localPort() {
      return need(localPort, 'localPort');
    },
    get dir() {
      return need(dir, 'dir');
    },
    rtA: () => path.join(t.dir, 'rt-local'),
    rtB: () => path.join(t.dir, 'rt-b'),
    workDir: (rt, id) => path.join(rt, 'agent-working-directory', id),
    fileText: (project, agents, extraEngines = []) =>
      [
        'version: 1',
        `project: ${project}`,
        `runtimeDir: ${t.rtA()}`,
        'engines:',
        `  b: { host: "${t.b.host}", runtimeDir: ${t.rtB()} }`,
        ...extraEngines,
        'defaults:',
        `  image: ${TEST_IMAGE}`,
        '  command: [sleep, "3600"]',
        '  network: none',
        '  user: "0"',
        'agents:',
        ...agents,
        '',
      ].join('\n'),
    file: (project, agents, extraEngines) =>
      parseConfig(t.fileText(project, agents, extraEngines), {
        file: path.join(t.dir, 'agents.yaml'),
        baseDir: t.dir,
        defaultProject: 'x',
      }),
    names: (e, project) =>
      e
        .docker(
          'ps',
          '-a',
          '--filter',
          `label=agentctl.project=${project}`,
          '--format',
          '{{.Names}} {{.State}}',
        )
        .split('\n')
        .filter(Boolean)
        .sort(),
    mountOf: (e, name) =>
      e.docker(
        'inspect',
        '-f',
        '{{range .Mounts}}{{if eq .Destination "/mnt"}}{{.Source}}{{end}}{{end}}',
        name,
      ),
  };
  return t;
}
