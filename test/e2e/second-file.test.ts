/**
 * Two files that name the same project, through the built CLI against the real engine: each agent's
 * label records the file that created it; the second file's prune of the first file's agents (and its
 * change of one) is shown with that file named, and refused without --allow-foreign-prune /
 * --allow-foreign-change; a file moved elsewhere adopts its agents with a note, without a flag.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { docker, inspect, removeProjectContainers, TEST_IMAGE } from '../helpers/docker.js';

const project = `i12two-${randomBytes(3).toString('hex')}`;
const root = mkdtempSync(path.join(os.tmpdir(), `agentctl-${project}-`));
const prefix = `${project}-`;

/** dir/agents.yaml naming the shared project, with `agents` lines. */
function write(dir: string, agents: string[]): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'agents.yaml');
  writeFileSync(
    file,
    [
      'version: 1',
      `project: ${project}`,
      `namePrefix: ${prefix}`,
      'runtimeDir: ./runtime',
      'defaults:',
      `  image: ${TEST_IMAGE}`,
      '  memory: 64m',
      '  cpus: 0.5',
      '  network: none',
      'agents:',
      ...agents.map((a) => `  ${a}`),
      '',
    ].join('\n'),
  );
  return file;
}
const agents = () =>
  docker(
    'ps',
    '-a',
    '--filter',
    `label=agentctl.project=${project}`,
    '--format',
    '{{.Label "agentctl.agent"}}',
  )
    .split('\n')
    .filter(Boolean)
    .sort();
const createdBy = (agent: string) => inspect(`${prefix}${agent}`).Config.Labels['agentctl.file'];

interface PlanJson {
  actions: { kind: string; agent: string; createdBy: string | null }[];
  adopted: { agent: string; file: string }[];
}

describe('a second file naming the same project (real engine, built CLI)', () => {
  afterAll(() => {
    removeProjectContainers(project);
    rmSync(root, { recursive: true, force: true });
  });

  it('guards the other file’s agents, names that file, and lets a moved file adopt its own', async () => {
    const fileA = write(path.join(root, 'a'), ['x: {}', 'y: {}']);
    const realA = realpathSync(fileA);
    expect((await agentctlAsync(['apply', '-f', fileA, '--wait-ready', '0'])).status).toBe(0);
    expect(createdBy('x')).toBe(realA);

    // B declares only z: its prune of x and y is A's agents.
    const fileB = write(path.join(root, 'b'), ['z: {}']);
    const d = await agentctlAsync(['diff', '-f', fileB]);
    // apply would refuse it: diff says so, and exits 1 as for any run apply would refuse.
    expect(d.status).toBe(1);
    expect(d.stdout).toContain(
      `- x will be removed  (agent is no longer in agents.yaml)  [created by ${realA}]`,
    );
    expect(d.stdout).toContain('apply would refuse this run (1 problem(s)), nothing would be changed:');
    expect(d.stdout).toContain(
      `! ${fileB} would remove 2 agent(s) created by ${realA} (x, y); another file names project`,
    );
    expect(d.stdout).toContain('(pass --allow-foreign-prune to remove them)');
    const dj = JSON.parse((await agentctlAsync(['diff', '-f', fileB, '-o', 'json'])).stdout) as PlanJson & {
      preflight: { ok: boolean; problems: { agents: string[]; optIn: string | null }[] };
    };
    expect(dj.preflight.ok).toBe(false);
    expect(dj.preflight.problems.map((x) => [x.agents, x.optIn])).toEqual([
      [['x', 'y'], 'allowForeignPrune'],
    ]);
    expect(dj.actions.map((a) => [a.kind, a.agent, a.createdBy])).toEqual([
      ['remove', 'x', realA],
      ['remove', 'y', realA],
      ['create', 'z', null],
    ]);

    const refused = await agentctlAsync(['apply', '-f', fileB, '--wait-ready', '0']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`would remove 2 agent(s) created by ${realA} (x, y)`);
    expect(refused.stderr).toContain('--allow-foreign-prune');
    expect(agents()).toEqual(['x', 'y']); // nothing changed, z not created either
    const rj = JSON.parse((await agentctlAsync(['apply', '-f', fileB, '-o', 'json'])).stdout) as {
      error: { kind: string };
    };
    expect(rj.error.kind).toBe('unsafe');

    const allowed = await agentctlAsync(['apply', '-f', fileB, '--allow-foreign-prune', '--wait-ready', '0']);
    expect(allowed.status).toBe(0);
    expect(agents()).toEqual(['z']);
    const realB = realpathSync(fileB);
    expect(createdBy('z')).toBe(realB);

    // A now declares z with other limits: a change of B's agent, refused without --allow-foreign-change.
    write(path.join(root, 'a'), ['z: { memory: 96m }']);
    const change = await agentctlAsync(['apply', '-f', fileA, '--wait-ready', '0']);
    expect(change.status).toBe(1);
    expect(change.stderr).toContain(`would change 1 agent(s) created by ${realB} (z)`);
    expect(inspect(`${prefix}z`).HostConfig.Memory).toBe(64 * 1024 ** 2);
    // With the flag A takes z over: memory alone would be changed in place, but only a new container
    // records A, so diff and apply say it is recreated; then B's own change of z is the refused one.
    const beforeId = inspect(`${prefix}z`).Id;
    const takeDiff = await agentctlAsync(['diff', '-f', fileA, '--allow-foreign-change']);
    expect(takeDiff.stdout).toContain(
      `taken over from ${realB}: a new container records this file as its owner`,
    );
    expect(takeDiff.status).toBe(2);
    expect(
      (await agentctlAsync(['apply', '-f', fileA, '--allow-foreign-change', '--wait-ready', '0'])).status,
    ).toBe(0);
    expect(inspect(`${prefix}z`)).toMatchObject({ HostConfig: { Memory: 96 * 1024 ** 2 } });
    expect(inspect(`${prefix}z`).Id).not.toBe(beforeId);
    expect(createdBy('z')).toBe(realpathSync(fileA));
    write(path.join(root, 'b'), ['z: { memory: 80m }']);
    const back = await agentctlAsync(['apply', '-f', fileB, '--wait-ready', '0']);
    expect(back.status).toBe(1);
    expect(back.stderr).toContain(`would change 1 agent(s) created by ${realpathSync(fileA)} (z)`);
    // Hand it back to B (for the moved-checkout part below).
    expect(
      (await agentctlAsync(['apply', '-f', fileB, '--allow-foreign-change', '--wait-ready', '0'])).status,
    ).toBe(0);
    expect(createdBy('z')).toBe(realB);

    // B's checkout moves: its agents are adopted (a note), and its prune needs no flag.
    const movedDir = path.join(root, 'b-moved');
    renameSync(path.join(root, 'b'), movedDir);
    const moved = write(movedDir, ['w: {}']);
    const md = await agentctlAsync(['diff', '-f', moved]);
    expect(md.stdout).toContain(
      `note: 1 agent(s) were created by ${realB}, which no longer exists (moved or renamed?): this file adopts them`,
    );
    expect(md.stdout).not.toContain('[created by');
    const mj = JSON.parse((await agentctlAsync(['diff', '-f', moved, '-o', 'json'])).stdout) as PlanJson;
    expect(mj.adopted).toEqual([{ agent: 'z', file: realB }]);
    expect((await agentctlAsync(['apply', '-f', moved, '--wait-ready', '0'])).status).toBe(0);
    expect(agents()).toEqual(['w']);
    expect(createdBy('w')).toBe(realpathSync(moved));
  });
});
