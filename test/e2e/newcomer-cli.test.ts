/** Rough edges a newcomer hits in the first hour, checked on the built binary. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { projectContainers } from '../helpers/docker.js';
import { type TestProject, testProject } from '../helpers/project.js';

const COMMANDS = [
  'init',
  'completion',
  'validate',
  'diff',
  'apply',
  'build',
  'ps',
  'down',
  'exec',
  'shell',
  'run',
  'logs',
  'start',
  'stop',
  'restart',
  'rm',
  'inspect',
  'stats',
  'cp',
  'cleanup',
  'render',
  'mcp',
];
// `egress` is a command group (egress log): its row is checked by hand.

/** Every flag of a command, from its --help: the long form and its short one, if any. */
async function flagsOf(command: string): Promise<{ long: string; short?: string }[]> {
  const help = (await agentctlAsync([command, '--help'])).stdout;
  return [...help.matchAll(/^\s+(?:(-\w), )?(--[a-z][a-z-]*)/gm)].map((m) => ({
    long: m[2] as string,
    short: m[1],
  }));
}

describe('help', () => {
  it('agentctl with no arguments prints the help and exits 0', async () => {
    const r = await agentctlAsync([]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: agentctl /);
    expect(r.stdout).toMatch(/^\s+apply \[options\]/m);
  });

  it.each(COMMANDS)('%s --help ends with an example', async (command) => {
    const r = await agentctlAsync([command, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`\\nExamples?:\\n  (\\$ )?agentctl ${command}\\b`));
  });

  it("the README's command table lists every flag of every command", async () => {
    const readme = readFileSync(path.resolve('README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Commands'), readme.indexOf('### Operating agents'));
    const rows = table.split('\n').filter((l) => l.startsWith('| `'));
    const missing: string[] = [];
    for (const command of COMMANDS) {
      const mine = rows.filter((r) => new RegExp(`^\\| \`(?:[a-z]+\\\\\\|)*${command}\\b`).test(r)).join(' ');
      expect(mine, `no row for ${command}`).not.toBe('');
      for (const { long, short } of await flagsOf(command)) {
        if (long === '--help' || long === '--engine-timeout') continue; // said once, under the table
        const listed =
          new RegExp(`${long}\\b`).test(mine) ||
          (short !== undefined && new RegExp(`[[ |]${short}[\\] \\\\]`).test(mine));
        if (!listed) missing.push(`${command} ${long}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('flags that would be silently ignored', () => {
  it.each([
    [['apply', '--resync', '5'], /--resync only applies with --watch \(add --watch, or drop it\)/],
    [['apply', '--debounce', '50'], /--debounce only applies with --watch/],
    [['apply', '--debounce', '50', '--resync', '5'], /--resync and --debounce only apply with --watch/],
  ])('%j is refused without --watch', async (args, message) => {
    const p = testProject('resync8');
    try {
      p.write('agents:\n  a: {}');
      const r = await agentctlAsync(args, { cwd: p.dir });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(projectContainers(p.project)).toEqual([]);
    } finally {
      p.cleanup();
    }
  });
});

describe('with the engine', () => {
  let p: TestProject | undefined;
  afterEach(() => p?.cleanup());

  it('FORCE_COLOR colors a piped plan, NO_COLOR alone does not', async () => {
    p = testProject('color8');
    p.write('agents:\n  a: {}');
    const forced = await agentctlAsync(['diff'], {
      cwd: p.dir,
      env: { NO_COLOR: undefined, FORCE_COLOR: '1' },
    });
    expect(forced.stdout).toContain('\x1b[32m');
    const plain = await agentctlAsync(['diff'], { cwd: p.dir });
    expect(plain.stdout).not.toContain('\x1b[');
    const off = await agentctlAsync(['diff'], { cwd: p.dir, env: { NO_COLOR: undefined, FORCE_COLOR: '0' } });
    expect(off.stdout).not.toContain('\x1b[');
  });

  it('ps --project of a project with no agents says so and exits 1', async () => {
    const r = await agentctlAsync(['ps', '--project', 'ux1-no-such-project'], { cwd: '/' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^agentctl: no agents of project "ux1-no-such-project" on this engine/);
    const json = await agentctlAsync(['ps', '--project', 'ux1-no-such-project', '-o', 'json'], { cwd: '/' });
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { kind: 'not-found' } });
  });

  it('ps and diff list agents in natural order (w-1, w-2, w-10)', async () => {
    p = testProject('nat8');
    p.write('agents:\n  w: { replicas: 10 }');
    const diff = await agentctlAsync(['diff', '-o', 'json'], { cwd: p.dir });
    const agents = (JSON.parse(diff.stdout) as { actions: { agent: string }[] }).actions.map((a) => a.agent);
    expect(agents).toEqual(['w-1', 'w-2', 'w-3', 'w-4', 'w-5', 'w-6', 'w-7', 'w-8', 'w-9', 'w-10']);
    const ps = (await agentctlAsync(['ps'], { cwd: p.dir })).stdout.split('\n').slice(1, 4);
    expect(ps.map((l) => l.split(/\s+/)[0])).toEqual(['w-1', 'w-2', 'w-3']);
  });

  it('run -o json -- CMD prints one JSON document with the exit code and output', async () => {
    p = testProject('run8');
    p.write('agents: {}');
    const r = await agentctlAsync(
      [
        'run',
        '--rm',
        '-f',
        p.file,
        '--image',
        'agentctl-test-busybox:latest',
        '--network',
        'none',
        '-o',
        'json',
        '--',
        'sh',
        '-c',
        'echo out; echo err >&2; exit 3',
      ],
      { cwd: p.dir },
    );
    expect(r.status, r.stderr).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({
      project: p.project,
      exitCode: 3,
      stdout: 'out\n',
      stderr: 'err\n',
    });
    expect(projectContainers(p.project)).toEqual([]);
  });
});
