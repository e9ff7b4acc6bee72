/** The built binary, spawned in a temp dir, as a user runs it. */
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { docker, projectContainers } from '../helpers/docker.js';
import { type TestProject, testProject } from '../helpers/project.js';

const EXAMPLE = path.resolve('examples/agents.yaml');

describe('agentctl validate', () => {
  it('accepts the example, warning about host networking with file:line:col', async () => {
    const r = await agentctlAsync(['validate', '-f', EXAMPLE]);
    expect(r.stderr).toMatch(new RegExp(`^${EXAMPLE}:\\d+:\\d+: warning: .*host networking`, 'm'));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/valid, project "demo", 8 agent\(s\), 1 secret reference\(s\)/);
  });

  const dir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-validate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bad: [string, string, RegExp][] = [
    [
      'unknown field',
      'version: 1\nagents:\n  a:\n    privileged: true\n',
      /:4:5: .*unknown field "privileged"/,
    ],
    ['bad memory', 'version: 1\nagents:\n  a: { memory: lots }\n', /:3:\d+: .*memory/],
    ['duplicate key', 'version: 1\nagents:\n  a: {}\n  a: {}\n', /:4:3: .*[Dd]uplicate/],
    ['bad id', 'version: 1\nagents:\n  ../x: {}\n', /:3:3: .*\.\.\/x/],
    ['invalid yaml', 'version: 1\nagents: [\n', /:\d+:\d+: /],
  ];
  it.each(bad)('rejects %s with one file:line:col line and exit 1', async (_name, text, pattern) => {
    const file = path.join(dir, `${_name.replace(/ /g, '-')}.yaml`);
    writeFileSync(file, text);
    const r = await agentctlAsync(['validate', '-f', file]);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}` + pattern.source));
  });

  it('names a missing file and a directory', async () => {
    const missing = await agentctlAsync(['validate', '-f', path.join(dir, 'nope.yaml')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nope\.yaml/);
    const isDir = await agentctlAsync(['validate', '-f', dir]);
    expect(isDir.status).toBe(1);
    expect(isDir.stderr).toMatch(/director/i);
  });

  it('reads stdin with -f -', async () => {
    const r = await agentctlAsync(['validate', '-f', '-', '--output', 'json'], {
      input: 'version: 1\nproject: piped\nagents:\n  a: {}\n',
      cwd: dir,
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, project: 'piped', agents: ['a'] });
  });
});

describe('agentctl diff/apply/ps/down (real engine)', () => {
  let p: TestProject | undefined;
  afterEach(() => p?.cleanup());

  it('runs the whole cycle with exit codes 2/0/0/0 and JSON output', async () => {
    p = testProject('cli');
    p.write('agents:\n  a: {}\n  w: { replicas: 2 }');
    const cwd = p.dir;

    const d1 = await agentctlAsync(['diff'], { cwd });
    expect(d1.status).toBe(2);
    expect(d1.stdout).toContain('+ a will be created');
    expect(d1.stdout).toMatch(/Plan: 3 to create/);

    const a1 = await agentctlAsync(['apply', '--output', 'json'], { cwd });
    expect(a1.stderr).not.toMatch(/FAIL/);
    expect(a1.status).toBe(0);
    const report = JSON.parse(a1.stdout).report;
    expect(report.ok).toBe(true);
    expect(report.results.map((r: { kind: string; agent: string }) => `${r.kind} ${r.agent}`)).toEqual([
      'create a',
      'create w-1',
      'create w-2',
    ]);
    expect(projectContainers(p.project)).toEqual([`${p.prefix}a`, `${p.prefix}w-1`, `${p.prefix}w-2`]);

    const d2 = await agentctlAsync(['diff', '--output', 'json'], { cwd });
    expect(d2.status).toBe(0);
    expect(JSON.parse(d2.stdout).actions).toEqual([]);

    const again = await agentctlAsync(['apply'], { cwd });
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/No changes/);

    const ps = await agentctlAsync(['ps', '--output', 'json'], { cwd });
    expect(ps.status).toBe(0);
    const rows = JSON.parse(ps.stdout) as { agent: string; state: string; memoryBytes: number }[];
    expect(rows.map((r) => [r.agent, r.state, r.memoryBytes])).toEqual([
      ['a', 'running', 64 * 1024 ** 2],
      ['w-1', 'running', 64 * 1024 ** 2],
      ['w-2', 'running', 64 * 1024 ** 2],
    ]);
    const table = await agentctlAsync(['ps'], { cwd });
    expect(table.stdout.split('\n')[0]).toMatch(
      /^AGENT\s+CONTAINER\s+STATE\s+IMAGE\s+MEMORY\s+CPUS\s+UPTIME$/,
    );

    docker('exec', `${p.prefix}a`, 'sh', '-c', 'echo x > /mnt/x');
    const down = await agentctlAsync(['down'], { cwd });
    expect(down.status).toBe(0);
    expect(projectContainers(p.project)).toEqual([]);
    expect(readFileSync(path.join(p.workDir('a'), 'x'), 'utf8')).toBe('x\n');

    const downData = await agentctlAsync(['down', '--data'], { cwd });
    expect(downData.status).toBe(0);
    expect(existsSync(p.workDir('a'))).toBe(false);
  });

  it('apply --dry-run changes nothing', async () => {
    p = testProject('dry');
    p.write('agents:\n  a: {}');
    const r = await agentctlAsync(['apply', '--dry-run'], { cwd: p.dir });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Dry run/);
    expect(projectContainers(p.project)).toEqual([]);
    expect(existsSync(path.join(p.dir, 'runtime'))).toBe(false);
  });

  it('reports an unreachable engine clearly and touches nothing', async () => {
    p = testProject('noengine');
    p.write('agents:\n  a: {}');
    const r = await agentctlAsync(['apply'], {
      cwd: p.dir,
      env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the Docker engine/);
    expect(existsSync(path.join(p.dir, 'runtime'))).toBe(false);
  });

  it('refuses while another run holds the project lock', async () => {
    p = testProject('locked');
    p.write('agents:\n  a: {}');
    const lockDir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-locks-'));
    // This test process is alive, so its pid holds the lock.
    writeFileSync(
      path.join(lockDir, `${p.project}.lock`),
      JSON.stringify({ pid: process.pid, command: 'apply', since: 'now' }),
    );
    try {
      const r = await agentctlAsync(['apply'], { cwd: p.dir, env: { AGENTCTL_LOCK_DIR: lockDir } });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`project "${p.project}" is locked by pid ${process.pid}`));
      expect(projectContainers(p.project)).toEqual([]);
    } finally {
      rmSync(lockDir, { recursive: true, force: true });
    }
  });

  it('refuses a symlinked agent directory, and down --data never follows it', async () => {
    p = testProject('link');
    p.write('agents:\n  a: {}');
    const outside = mkdtempSync(path.join(os.tmpdir(), 'agentctl-outside-'));
    writeFileSync(path.join(outside, 'precious'), 'do not delete');
    mkdirSync(path.dirname(p.workDir('a')), { recursive: true });
    symlinkSync(outside, p.workDir('a'));
    try {
      const v = await agentctlAsync(['validate'], { cwd: p.dir });
      expect(v.status).toBe(1);
      expect(v.stderr).toMatch(/symlink/);
      const a = await agentctlAsync(['apply'], { cwd: p.dir });
      expect(a.status).toBe(1);
      expect(a.stderr).toMatch(/symlink/);
      expect(projectContainers(p.project)).toEqual([]);
      const d = await agentctlAsync(['down', '--data'], { cwd: p.dir });
      expect(d.status).toBe(1);
      expect(readFileSync(path.join(outside, 'precious'), 'utf8')).toBe('do not delete');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
