/**
 * Secrets by reference against the real engine, through the built CLI and the library: the value reaches
 * the agent's environment and nothing else (no label, no output of any command, no watch event, no error
 * message), a changed secret is still seen and applied, and an unresolvable reference changes nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentManager } from '../../src/ops/agent-manager.js';
import { agentctlAsync } from '../helpers/cli.js';
import { docker, inspect, projectContainers } from '../helpers/docker.js';
import { type TestProject, testProject } from '../helpers/project.js';
import { spawnWatch } from '../helpers/watch-process.js';

const projects: TestProject[] = [];
afterAll(() => projects.forEach((p) => p.cleanup()));

/** Distinctive values that would show up in any output they leaked into. */
const ENV_SECRET = `envsecret-${randomBytes(6).toString('hex')}`;
const FILE_SECRET = `filesecret-${randomBytes(6).toString('hex')}`;
const NEW_FILE_SECRET = `rotated-${randomBytes(6).toString('hex')}`;
const VALUES = [ENV_SECRET, FILE_SECRET, NEW_FILE_SECRET];

function expectNoSecret(what: string, text: string): void {
  for (const v of VALUES) expect(text, `${what} leaks a secret`).not.toContain(v);
}

/** Every label of every container of the project, as docker inspect shows them. */
function allLabels(project: string): string {
  return projectContainers(project)
    .map((name) => JSON.stringify(inspect(name).Config.Labels))
    .join('\n');
}

function envIn(container: string): string {
  return docker('exec', container, 'env');
}

describe('secrets by reference (CLI, real engine)', () => {
  const p = testProject('i11sec');
  projects.push(p);
  mkdirSync(path.join(p.dir, 'secrets'));
  const secretFile = path.join(p.dir, 'secrets', 'db.txt');
  writeFileSync(secretFile, `${FILE_SECRET}\n`);
  p.write(
    [
      'agents:',
      '  coder:',
      '    command: [sleep, "3600"]',
      '    env:',
      '      API_KEY: { fromEnv: I11_API_KEY }',
      '      DB_PASSWORD: { fromFile: ./secrets/db.txt }',
      '      MODE: plain',
    ].join('\n'),
    '  network: none',
  );
  const withKey = { I11_API_KEY: ENV_SECRET };
  const container = `${p.prefix}coder`;
  const outputs: [string, string][] = [];
  const run = async (args: string[], env: Record<string, string | undefined> = withKey) => {
    const r = await agentctlAsync(args, { cwd: p.dir, env });
    outputs.push([args.join(' '), r.stdout + r.stderr]);
    return r;
  };

  it('validate reports an unresolved reference at file:line:col without its value, and passes', async () => {
    const text = await run(['validate'], { I11_API_KEY: undefined });
    expect(text.status).toBe(0);
    expect(text.stderr).toMatch(
      new RegExp(
        `${p.file}:\\d+:\\d+: agents\\.coder\\.env\\.API_KEY: fromEnv:I11_API_KEY: I11_API_KEY is not set`,
      ),
    );
    expect(text.stdout).toMatch(/2 secret reference\(s\), 1 unresolved/);
    const json = await run(['validate', '-o', 'json'], { I11_API_KEY: undefined });
    const rows = (JSON.parse(json.stdout) as { secrets: { env: string; resolved: boolean }[] }).secrets;
    expect(rows.map((r) => [r.env, r.resolved])).toEqual([
      ['API_KEY', false],
      ['DB_PASSWORD', true],
    ]);
  });

  it('apply with an unresolvable reference fails before anything changes, naming it', async () => {
    const r = await run(['apply'], { I11_API_KEY: undefined });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`${p.file}:14:16: agents\\.coder\\.env\\.API_KEY: fromEnv:I11_API_KEY`),
    );
    expect(r.stderr).toMatch(/nothing was changed/);
    expect(projectContainers(p.project)).toEqual([]);
  });

  let firstId = '';
  it('apply hands the values to the agent and to nothing else', async () => {
    expect((await run(['apply'])).status).toBe(0);
    const env = envIn(container);
    expect(env).toContain(`API_KEY=${ENV_SECRET}`);
    expect(env).toContain(`DB_PASSWORD=${FILE_SECRET}`);
    firstId = inspect(container).Id as string;
    expectNoSecret('labels', allLabels(p.project));
    expect(inspect(container).Config.Labels['agentctl.spec']).toMatch(/"digest":"hmac-sha256:[0-9a-f]{64}"/);
    // Re-applying the same secrets changes nothing.
    const again = await run(['diff']);
    expect(again.status).toBe(0);
  });

  it('a changed secret file is seen as (secret changed) and recreates the agent', async () => {
    writeFileSync(secretFile, `${NEW_FILE_SECRET}\n`);
    const text = await run(['diff']);
    expect(text.status).toBe(2);
    expect(text.stdout).toMatch(/env\.DB_PASSWORD: \(secret\) -> \(secret changed\)/);
    const json = await run(['diff', '-o', 'json']);
    expect(json.stdout).toContain('"after": "(secret changed)"');
    expect((await run(['apply'])).status).toBe(0);
    expect(inspect(container).Id).not.toBe(firstId);
    expect(envIn(container)).toContain(`DB_PASSWORD=${NEW_FILE_SECRET}`);
  });

  it('ps, inspect and apply --watch events show no value', async () => {
    await run(['ps']);
    await run(['ps', '-o', 'json']);
    await run(['inspect', 'coder']);
    await run(['inspect', 'coder', '-o', 'json']);
    // A watcher started with a rotated env secret recreates the agent; its events carry no value.
    const w = spawnWatch([], { cwd: p.dir, env: { I11_API_KEY: `${ENV_SECRET}-2` } });
    try {
      const done = await w.waitFor('the recreate', (e) => e.type === 'reconcile' && e.actions.length > 0);
      expect(JSON.stringify(done)).toMatch(/recreate/);
      expectNoSecret('watch events', `${JSON.stringify(w.events)}${w.stderr()}${w.notJson.join('\n')}`);
      expect(JSON.stringify(w.events)).not.toContain(`${ENV_SECRET}-2`);
    } finally {
      w.child.kill('SIGTERM');
      await w.exited;
    }
    expect(envIn(container)).toContain(`API_KEY=${ENV_SECRET}-2`);
    for (const [what, text] of outputs) expectNoSecret(what, text);
    expectNoSecret('labels', allLabels(p.project));
    expect(allLabels(p.project)).not.toContain(`${ENV_SECRET}-2`);
  });
});

describe('secrets by reference (library)', () => {
  it('createAgent takes { fromEnv } and the value reaches only the agent', async () => {
    const p = testProject('i11lib');
    projects.push(p);
    const mgr = new AgentManager({ project: p.project, runtimeDir: path.join(p.dir, 'runtime') });
    const key = `I11_LIB_${randomBytes(3).toString('hex')}`;
    process.env[key] = ENV_SECRET;
    try {
      await mgr.createAgent({
        id: 'lib',
        image: 'agentctl-test-busybox:latest',
        command: ['sleep', '3600'],
        network: 'none',
        memory: '64m',
        env: { API_KEY: { fromEnv: key } },
      });
      const r = await mgr.executeCommand('lib', 'echo "$API_KEY"');
      expect(r.stdout.trim()).toBe(ENV_SECRET);
      expectNoSecret('labels', allLabels(p.project));
      delete process.env[key];
      const err = await mgr
        .createAgent({ id: 'lib2', image: 'agentctl-test-busybox:latest', env: { K: { fromEnv: key } } })
        .catch((e: unknown) => e as Error);
      expect(String(err)).toMatch(
        new RegExp(`createAgent\\("lib2"\\):\\d+:\\d+: agents\\.lib2\\.env\\.K: fromEnv:${key}`),
      );
    } finally {
      delete process.env[key];
    }
  });
});
