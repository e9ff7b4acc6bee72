/**
 * The healthcheck field through the built CLI, against the real engine: what the engine is given
 * (docker inspect), what it concludes (State.Health), and what ps, diff and apply make of it. Intervals
 * are 1 s so that the engine's verdicts come within the test.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { dockerAsync, dockerTry, inspect, TEST_IMAGE } from '../helpers/docker.js';
import { eventually } from '../helpers/eventually.js';
import { testProjects } from '../helpers/project.js';

/** An image of this test's own with a HEALTHCHECK that always fails. */
const FAILING_IMAGE = `agentctl-i12h-failing-hc:${process.pid}`;

interface PsRow {
  agent: string;
  health: string | null;
}

const healthOf = (name: string): string | undefined =>
  (inspect(name) as { State: { Health?: { Status: string } } }).State.Health?.Status;

describe('healthcheck (real engine)', () => {
  const project = testProjects();

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-i12h-image-'));
    writeFileSync(
      path.join(dir, 'Dockerfile'),
      `FROM ${TEST_IMAGE}\nHEALTHCHECK --interval=1s --timeout=2s --retries=1 CMD echo image probe fails; exit 1\n`,
    );
    await dockerAsync('build', '-q', '-t', FAILING_IMAGE, dir);
    rmSync(dir, { recursive: true, force: true });
  });
  afterAll(() => {
    dockerTry('rmi', '-f', FAILING_IMAGE);
  });

  it('gives the engine the default probe, which works on a FROM-scratch image; ps shows it healthy', async () => {
    const p = project('hcdef');
    p.write('agents:\n  plain: {}\n  quick: { healthcheck: { interval: 1s } }', '  network: none');
    const r = await agentctlAsync(['apply', '-f', p.file, '--wait-ready', '1']);
    expect(r.stderr + r.stdout).toMatch(/Apply complete/);
    expect(r.status).toBe(0); // `starting` is fine: plain's first probe is 5 minutes away

    expect(inspect(`${p.prefix}plain`).Config.Healthcheck).toEqual({
      Test: ['CMD', '/sbin/docker-init', '--version'],
      Interval: 300e9,
      Timeout: 30e9,
      Retries: 3,
    });
    expect(inspect(`${p.prefix}quick`).Config.Healthcheck.Interval).toBe(1e9);
    await eventually('quick to be healthy', () => healthOf(`${p.prefix}quick`) === 'healthy');
    expect(healthOf(`${p.prefix}plain`)).toBe('starting');

    const rows = JSON.parse((await agentctlAsync(['ps', '-f', p.file, '-o', 'json'])).stdout) as PsRow[];
    expect(rows.map((x) => [x.agent, x.health])).toEqual([
      ['plain', 'starting'],
      ['quick', 'healthy'],
    ]);
    expect((await agentctlAsync(['ps', '-f', p.file])).stdout).toMatch(
      /quick\s+\S+quick\s+running \(healthy\)/,
    );
  });

  it('fails apply when an agent turns unhealthy in the settle time; ps and diff say so, with the probe', async () => {
    const p = project('hcbad');
    p.write(
      [
        'agents:',
        '  good: { healthcheck: { command: "exit 0", interval: 1s } }',
        '  bad: { healthcheck: { command: [sh, -c, "echo db is down; exit 1"], interval: 1s, retries: 1 } }',
      ].join('\n'),
      '  network: none',
    );
    const r = await agentctlAsync(['apply', '-f', p.file, '--wait-ready', '4']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /FAIL\s+\+ create bad: is unhealthy \(its healthcheck fails, \d+ failure\(s\) in a row: exit 1, "db is down"\)/,
    );
    expect(r.stderr).not.toMatch(/create good:/);
    expect(inspect(`${p.prefix}bad`).State.Health.Status).toBe('unhealthy');

    const rows = JSON.parse((await agentctlAsync(['ps', '-f', p.file, '-o', 'json'])).stdout) as PsRow[];
    expect(rows.find((x) => x.agent === 'bad')?.health).toBe('unhealthy');
    await eventually('good to be healthy', () => healthOf(`${p.prefix}good`) === 'healthy');

    const d = await agentctlAsync(['diff', '-f', p.file]);
    expect(d.stdout).toMatch(/! bad is unhealthy \(its healthcheck fails: exit 1, "db is down"\)/);
    expect(d.stdout).not.toMatch(/! good/);
    const json = JSON.parse((await agentctlAsync(['diff', '-f', p.file, '-o', 'json'])).stdout) as {
      failing: { agent: string; lastProbe: { exitCode: number; output: string } | null }[];
    };
    expect(json.failing).toEqual([
      {
        agent: 'bad',
        message: expect.stringMatching(/^unhealthy/) as string,
        lastProbe: { exitCode: 1, output: 'db is down', end: expect.any(String) as string },
      },
    ]);
  });

  it("none switches an image's own HEALTHCHECK off; image keeps it", async () => {
    const p = project('hcnone');
    p.write(
      `agents:\n  off: { image: "${FAILING_IMAGE}", healthcheck: none }\n  own: { image: "${FAILING_IMAGE}", healthcheck: image }`,
      '  network: none',
    );
    const r = await agentctlAsync(['apply', '-f', p.file, '--wait-ready', '0']);
    expect(r.status).toBe(0);
    // The engine copies the image's timing in beside NONE; NONE is what counts.
    expect(inspect(`${p.prefix}off`).Config.Healthcheck.Test).toEqual(['NONE']);
    expect(inspect(`${p.prefix}own`).Config.Healthcheck.Test).toEqual([
      'CMD-SHELL',
      'echo image probe fails; exit 1',
    ]);
    await eventually('own to be unhealthy', () => healthOf(`${p.prefix}own`) === 'unhealthy');
    // `own` has had probes for a while now, at a 1 s interval: `off` would have had them too.
    expect(inspect(`${p.prefix}off`).State.Health).toBeUndefined();
    const rows = JSON.parse((await agentctlAsync(['ps', '-f', p.file, '-o', 'json'])).stdout) as PsRow[];
    expect(rows.map((x) => [x.agent, x.health])).toEqual([
      ['off', null],
      ['own', 'unhealthy'],
    ]);
  });

  it('a changed healthcheck is a recreate with its cause, and the data stays', async () => {
    const p = project('hcchg');
    p.write('agents:\n  a: {}', '  network: none');
    expect((await agentctlAsync(['apply', '-f', p.file, '--wait-ready', '0'])).status).toBe(0);
    writeFileSync(path.join(p.workDir('a'), 'notes.txt'), 'kept\n');
    const before = inspect(`${p.prefix}a`).Id as string;

    p.write('agents:\n  a: { healthcheck: { interval: 10m, retries: 5 } }', '  network: none');
    const d = await agentctlAsync(['diff', '-f', p.file]);
    expect(d.status).toBe(2);
    expect(d.stdout).toMatch(
      /-\/\+ a will be recreated\s+\(changed: healthcheck\.interval, healthcheck\.retries; the engine cannot change a healthcheck in place, so a new container is made, data kept\)/,
    );
    expect(d.stdout).toMatch(/^\s+healthcheck\.interval: 5m -> 10m$/m);
    expect(d.stdout).toMatch(/^\s+healthcheck\.retries: 3 -> 5$/m);

    expect((await agentctlAsync(['apply', '-f', p.file, '--wait-ready', '0'])).status).toBe(0);
    const after = inspect(`${p.prefix}a`);
    expect(after.Id).not.toBe(before);
    expect(after.Config.Healthcheck).toMatchObject({ Interval: 600e9, Retries: 5 });
    expect(readFileSync(path.join(p.workDir('a'), 'notes.txt'), 'utf8')).toBe('kept\n');
    expect((await agentctlAsync(['diff', '-f', p.file])).status).toBe(0);
  });
});
