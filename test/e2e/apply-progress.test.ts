/**
 * apply's overall progress line (N of M) on a terminal, through a real pseudo-terminal (util-linux's
 * `script`), and its absence in a pipe and in JSON. Built CLI, shared engine.
 */
/* eslint-disable no-control-regex -- the terminal's escape sequences are what this test reads */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctl, CLI } from '../helpers/cli.js';
import { type TestProject, testProject } from '../helpers/project.js';

const STATUS = /\r\x1b\[K\[(\d)\/3\] done/g;

describe('apply progress line (real engine)', () => {
  let p: TestProject;
  beforeAll(() => {
    p = testProject('i8prog');
  });
  afterAll(() => p?.cleanup());

  /** apply under a pseudo-terminal: stdout and stderr are the terminal, as for a user. */
  const onTerminal = (...args: string[]) => {
    const command = [process.execPath, CLI, 'apply', ...args].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', command, '/dev/null'], {
      cwd: p.dir,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 120_000,
    });
    return { status: r.status, out: r.stdout };
  };

  it('on a terminal: N of M redrawn in place beside the per-agent lines, gone before the summary', () => {
    p.write('agents:\n  a: {}\n  b: {}\n  c: {}', '  network: none');
    const r = onTerminal('--wait-ready', '0', '-p', '1');
    expect(r.status, r.out).toBe(0);
    const counts = [...r.out.matchAll(STATUS)].map((m) => Number(m[1]));
    expect(counts[0]).toBe(0);
    expect(counts.at(-1)).toBe(3);
    // Never backwards, and every step shown.
    expect(counts).toEqual([...counts].sort());
    expect(new Set(counts)).toEqual(new Set([0, 1, 2, 3]));
    for (const id of ['a', 'b', 'c']) expect(r.out).toMatch(new RegExp(`ok +\\+ create ${id} `));
    // The summary comes after the status line was cleared, on a line of its own.
    expect(r.out).toMatch(/\r\x1b\[K(\r\n)?Apply complete: 3 action\(s\) done/);
  });

  it('not in a pipe, not with -o json, not when nothing changes', () => {
    p.write('agents:\n  a: { memory: 72m }\n  b: {}\n  c: {}', '  network: none');
    const piped = agentctl(['apply', '--wait-ready', '0'], { cwd: p.dir });
    expect(piped.status, piped.stderr).toBe(0);
    expect(piped.stderr).toMatch(/ok +~ update a/);
    expect(piped.stderr + piped.stdout).not.toMatch(/\x1b\[K|\] done/);

    p.write('agents:\n  a: { memory: 80m }\n  b: {}\n  c: {}', '  network: none');
    const json = onTerminal('--wait-ready', '0', '-o', 'json');
    expect(json.status).toBe(0);
    expect(json.out).not.toMatch(/\x1b\[K|\] done/);

    const none = onTerminal('--wait-ready', '0');
    expect(none.out).toContain('No changes.');
    expect(none.out).not.toMatch(/\] done/);
  });
});
