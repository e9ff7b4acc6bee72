/**
 * ps, down and cleanup of a file with several engines, through the built binary, against two private
 * dockerds (test/helpers/two-engines.ts): DOCKER_HOST is dockerd A (`local`), engine `b` is dockerd B.
 * Asserts what each engine holds (docker ps / inspect there) and the directories on disk.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { reconcileFleet } from '../../src/fleet/reconcile.js';
import { reconcile } from '../../src/ops/reconcile.js';
import { agentctl } from '../helpers/cli.js';
import { TEST_IMAGE } from '../helpers/docker.js';
import { twoEngines } from '../helpers/two-engines.js';

const PROJECT = `i13-ops-${process.pid}`;

describe('ps, down and cleanup over several engines (real dockerds, built binary)', () => {
  const t = twoEngines('i13o');
  beforeAll(t.start, 180_000);
  afterAll(t.cleanup, 120_000);
  const { rtA } = t;
  const gone = () => `  gone: { host: "unix://${t.dir}/nowhere.sock", runtimeDir: ${t.dir}/rt-gone }`;

  /** Writes the file (agents lines, extra engines) and runs the binary on it with DOCKER_HOST = A. */
  function run(args: string[], agents: string[], extraEngines: string[] = []) {
    writeFileSync(path.join(t.dir, 'agents.yaml'), t.fileText(PROJECT, agents, extraEngines));
    return agentctl([...args, '-f', 'agents.yaml'], { cwd: t.dir, env: { DOCKER_HOST: t.a.host } });
  }
  const json = <T>(stdout: string) => JSON.parse(stdout) as T;
  type Row = { agent: string; engine: string; state: string; homeEngine: string | null; stray: boolean };

  it('ps lists every engine: an ENGINE column, strays named, an unreachable engine one line and exit 1', async () => {
    expect(
      (await reconcileFleet(t.file(PROJECT, ['  x: {}', '  y: { engine: b }']), { port: t.localPort })).report
        .ok,
    ).toBe(true);
    // A stray copy of y on A, as a one-engine file would make it.
    const single = parseConfig(
      [
        'version: 1',
        `project: ${PROJECT}`,
        `runtimeDir: ${rtA()}`,
        'agents:',
        `  y: { image: ${TEST_IMAGE}, command: [sleep, "3600"], network: none, user: "0" }`,
      ].join('\n'),
      { file: path.join(t.dir, 'one.yaml'), baseDir: t.dir, defaultProject: 'x' },
    );
    expect((await reconcile(single, { port: t.localPort, prune: false })).report.ok).toBe(true);

    const agents = ['  x: {}', '  y: { engine: b }', '  z: { engine: b }'];
    const j = run(['ps', '-o', 'json'], agents);
    expect(j.status, j.stderr).toBe(0);
    expect(json<Row[]>(j.stdout).map((r) => [r.agent, r.engine, r.state, r.homeEngine, r.stray])).toEqual([
      ['x', 'local', 'running', 'local', false],
      ['y', 'b', 'running', 'b', false],
      ['y', 'local', 'running', 'b', true],
      ['z', 'b', 'missing', 'b', false],
    ]);
    const text = run(['ps'], agents);
    expect(text.status, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^AGENT\s+ENGINE\s+CONTAINER\s+STATE\s+IMAGE/);
    expect(lines[3]).toMatch(/^y \(stray: the file puts it on engine b\)\s+local\s+claude-agent-y\s+running/);

    const withGone = run(['ps', '-o', 'json'], [...agents, '  w: { engine: gone }'], [gone()]);
    expect(withGone.status).toBe(1);
    expect(withGone.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(`^agentctl: engine gone \\(unix://${t.dir}/nowhere\\.sock\\): .*; agent w not looked at$`),
      ),
    ]);
    const rows = json<(Row & { unreachable: string | null })[]>(withGone.stdout);
    expect(rows.find((r) => r.agent === 'w')).toMatchObject({ engine: 'gone', state: 'unknown' });
    expect(rows.find((r) => r.agent === 'w')?.unreachable).toMatch(/nowhere\.sock/);
    expect(rows.filter((r) => r.agent !== 'w').map((r) => r.state)).toEqual([
      'running',
      'running',
      'running',
      'missing',
    ]);
    const gonetext = run(['ps', '--state', 'unknown'], [...agents, '  w: { engine: gone }'], [gone()]);
    expect(gonetext.stdout).toMatch(/^w\s+gone\s+claude-agent-w\s+unknown \(engine unreachable\)/m);
  }, 180_000);
});
