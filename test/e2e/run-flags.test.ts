/**
 * run's agent-field flags reach the container as the file's fields would (docker inspect), and
 * `-e KEY` passes the caller's KEY through (unset: not passed) in run and exec. Built CLI, shared engine.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentctl } from '../helpers/cli.js';
import { inspect, removeProjectContainers, TEST_IMAGE } from '../helpers/docker.js';

describe('run flags and -e KEY (real engine)', () => {
  const project = `i8run-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), `agentctl-${project}-`));
  afterAll(() => {
    removeProjectContainers(project);
    rmSync(dir, { recursive: true, force: true });
  });
  const env = { PASS_I8: 'from-caller', UNSET_I8: undefined };
  const run = (...args: string[]) =>
    agentctl(['run', '--project', project, '--image', TEST_IMAGE, ...args], { cwd: dir, env });

  it('every given field reaches the container', () => {
    const r = run(
      'flags',
      '--memory',
      '80m',
      '--cpus',
      '0.5',
      '--pids',
      '64',
      '-u',
      '1000:1000',
      '-e',
      'A=1',
      '-e',
      'PASS_I8',
      '-e',
      'UNSET_I8',
      '--no-read-only',
      '--network',
      'none',
      '-l',
      'team=x',
      '--ulimit',
      'nofile=100:200',
      '--tmpfs',
      '/scratch=10m',
      '--no-init',
      '--restart',
      'no',
      '-o',
      'json',
    );
    expect(r.status, r.stderr).toBe(0);
    const c = inspect(JSON.parse(r.stdout).containerId);
    expect(c.HostConfig.Memory).toBe(80 * 1024 ** 2);
    expect(c.HostConfig.NanoCpus).toBe(5e8);
    expect(c.HostConfig.PidsLimit).toBe(64);
    expect(c.Config.User).toBe('1000:1000');
    expect(c.Config.Env).toEqual(expect.arrayContaining(['A=1', 'PASS_I8=from-caller']));
    expect((c.Config.Env as string[]).some((e) => e.startsWith('UNSET_I8'))).toBe(false);
    expect(c.HostConfig.ReadonlyRootfs).toBe(false);
    expect(c.HostConfig.NetworkMode).toBe('none');
    expect(c.Config.Labels.team).toBe('x');
    expect(c.HostConfig.Ulimits).toEqual(expect.arrayContaining([{ Name: 'nofile', Soft: 100, Hard: 200 }]));
    expect(c.HostConfig.Tmpfs['/scratch']).toMatch(/size=10m/);
    expect(c.HostConfig.Init).not.toBe(true);
    expect(c.HostConfig.RestartPolicy.Name).toBe('no');
  });

  it('without the flags, the file defaults (read-only, init, 1024 pids)', () => {
    const r = run('plain', '--network', 'none', '-o', 'json');
    expect(r.status, r.stderr).toBe(0);
    const c = inspect(JSON.parse(r.stdout).containerId);
    expect(c.HostConfig.ReadonlyRootfs).toBe(true);
    expect(c.HostConfig.Init).toBe(true);
    expect(c.HostConfig.PidsLimit).toBe(1024);
  });

  it('a bad value names the flag', () => {
    const r = run('bad', '--memory', 'lots', '--', 'true');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--memory/);
  });

  it("exec -e KEY passes the caller's KEY through; an unset KEY is not passed", () => {
    const r = agentctl(
      [
        'exec',
        '--project',
        project,
        '-e',
        'PASS_I8',
        '-e',
        'UNSET_I8',
        '-e',
        'B=2',
        'plain',
        '--',
        'sh',
        '-c',
        'echo "$PASS_I8 ${UNSET_I8-unset} $B"',
      ],
      { cwd: dir, env },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('from-caller unset 2\n');
  });
});
