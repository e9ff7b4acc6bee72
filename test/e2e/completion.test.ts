/**
 * `agentctl completion bash|zsh|fish`: the scripts are generated from the built program and driven by the
 * real shells: bash through its completion function, fish through `complete -C`, zsh as a user drives it,
 * an interactive `zsh -f` in a pseudo-terminal (zsh/zpty) with compinit, typing TAB and reading back the
 * line (and the list of choices zsh printed). Agent ids come from the live project: the `agentctl` on
 * PATH is the built binary, run in the project's directory.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentctlAsync, CLI, runAsync } from '../helpers/cli.js';
import { appliedProject, type TestProject } from '../helpers/project.js';

const bin = mkdtempSync(path.join(os.tmpdir(), 'agentctl-completion-'));
writeFileSync(path.join(bin, 'agentctl'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
chmodSync(path.join(bin, 'agentctl'), 0o755);
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' };

async function script(shell: string): Promise<string> {
  const r = await agentctlAsync(['completion', shell]);
  expect(r.status).toBe(0);
  return r.stdout;
}

/**
 * Runs `cmd` with the built binary first on PATH, without blocking the test worker (these tests run dozens
 * of shells in a row); its stdout, and it must succeed.
 */
async function shell(
  cmd: string,
  args: string[],
  opts: { cwd?: string; timeout?: number } = {},
): Promise<string> {
  const r = await runAsync(cmd, args, { env, ...opts });
  expect(r.status, `${cmd} ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** What bash's completion function offers for the words typed so far (the last one being completed). */
async function bashComplete(words: string[], cwd = os.tmpdir()): Promise<string[]> {
  const file = path.join(bin, 'c.bash');
  writeFileSync(file, await script('bash'));
  const typed = words.map((w) => `'${w}'`).join(' ');
  const out = await shell(
    'bash',
    [
      '-c',
      `source ${file}; COMP_WORDS=(${typed}); COMP_CWORD=${words.length - 1}; _agentctl; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { cwd },
  );
  return out.split('\n').filter(Boolean);
}

/**
 * zsh, interactive in a zpty: the script installed as a user would (on fpath, found by compinit; or
 * sourced after it), `line` typed and TAB pressed, then a widget prints the line as it is now. Returns
 * that line and the list of choices zsh printed under it (escape sequences removed).
 */
async function zshComplete(
  line: string,
  opts: { cwd?: string; install?: 'fpath' | 'source' } = {},
): Promise<{ buffer: string; listing: string }> {
  const dir = mkdtempSync(path.join(bin, 'zsh-'));
  writeFileSync(path.join(dir, '_agentctl'), await script('zsh'));
  const install =
    opts.install === 'source'
      ? ['autoload -Uz compinit && compinit -u -d $dir/zcompdump', 'source $dir/_agentctl']
      : ['fpath=($dir $fpath)', 'autoload -Uz compinit && compinit -u -d $dir/zcompdump'];
  // Sourced from a file, so the marker the widget prints never appears in the echo of a typed line.
  writeFileSync(
    path.join(dir, 'setup.zsh'),
    [
      `dir=${dir}`,
      "PS1='%% '",
      ...install,
      'dump() { print -r -- "::BUFFER:${BUFFER}:END::" }',
      'zle -N dump',
      "bindkey '^X' dump",
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(dir, 'drive.zsh'),
    [
      'zmodload zsh/zpty || exit 2',
      'zpty z zsh -f -i',
      `zpty -w z "source ${dir}/setup.zsh"`,
      // The line, TAB, then ^X: zle reads keys in order, so the dump comes after the completion is done.
      `zpty -w -n z "$1"$'\\t\\x18'`,
      "zpty -r -m z out '*::BUFFER:*:END::*' || exit 3",
      'print -r -- "$out"',
      'zpty -d z',
      '',
    ].join('\n'),
  );
  try {
    const out = await shell('zsh', ['-f', path.join(dir, 'drive.zsh'), line], {
      cwd: opts.cwd ?? os.tmpdir(),
      timeout: 60_000,
    });
    // eslint-disable-next-line no-control-regex -- the terminal's escape sequences and bell are what zsh wrote
    const plain = out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/[\x07\r]/g, '');
    const buffer = /::BUFFER:(.*):END::/.exec(plain)?.[1];
    expect(buffer, plain).toBeDefined();
    // What zsh printed between the echo of the typed line and its redraw (or the dump): the choices.
    // (The terminal may echo the keys once more before zle takes them: only the last two count.)
    const head = plain.slice(0, plain.lastIndexOf('::BUFFER:'));
    const redraw = head.lastIndexOf(line);
    const echo = head.lastIndexOf(line, redraw - 1);
    const listing = echo === -1 ? '' : head.slice(echo + line.length, redraw);
    return { buffer: buffer as string, listing };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('agentctl completion (built binary, real shells)', () => {
  const projects: TestProject[] = [];
  afterAll(() => {
    for (const p of projects) p.cleanup();
    rmSync(bin, { recursive: true, force: true });
  });

  it('bash completes commands, subcommands and each command its own flags', async () => {
    expect(await bashComplete(['agentctl', 'ap'])).toEqual(['apply']);
    expect(await bashComplete(['agentctl', 'c'])).toEqual(['cleanup', 'completion', 'cp']);
    expect(await bashComplete(['agentctl', 'apply', '--wa'])).toEqual(['--wait', '--wait-ready', '--watch']);
    expect(await bashComplete(['agentctl', 'down', '--d'])).toEqual(['--data', '--dry-run']);
    expect(await bashComplete(['agentctl', 'egress', ''])).toEqual(['log']);
    // A flag of another command is not offered.
    expect(await bashComplete(['agentctl', 'ps', '--wat'])).toEqual([]);
  });

  it("bash and fish complete agent ids from the project's agents", async () => {
    const p = await appliedProject(projects, 'i8cmp', 'agents:\n  coder: {}\n  critic: {}');
    expect(await bashComplete(['agentctl', 'exec', 'c'], p.dir)).toEqual(['coder', 'critic']);
    expect(await bashComplete(['agentctl', 'logs', 'cr'], p.dir)).toEqual(['critic']);
    const fish = path.join(bin, 'c.fish');
    writeFileSync(fish, await script('fish'));
    const offered = await shell('fish', ['-c', `source ${fish}; complete -C 'agentctl stop co'`], {
      cwd: p.dir,
    });
    expect(offered.split('\n').map((l) => l.split('\t')[0])).toContain('coder');

    // zsh: one match completes the word, two are listed.
    expect((await zshComplete('agentctl logs cr', { cwd: p.dir })).buffer).toBe('agentctl logs critic ');
    expect((await zshComplete('agentctl stop co', { cwd: p.dir })).buffer).toBe('agentctl stop coder ');
    const both = await zshComplete('agentctl exec c', { cwd: p.dir });
    expect(both.buffer).toBe('agentctl exec c');
    expect(both.listing.split(/\s+/).filter(Boolean).sort()).toEqual(['coder', 'critic']);
  }, 120_000);

  it('zsh completes commands, subcommands and flags on the first TAB, on fpath or sourced', async () => {
    for (const install of ['fpath', 'source'] as const) {
      expect((await zshComplete('agentctl ap', { install })).buffer).toBe('agentctl apply ');
    }
    expect((await zshComplete('agentctl apply --wat')).buffer).toBe('agentctl apply --watch ');
    expect((await zshComplete('agentctl logs --fo')).buffer).toBe('agentctl logs --follow ');
    expect((await zshComplete('agentctl egress ')).buffer).toBe('agentctl egress log ');
    // A flag of another command is not offered: the line stays as typed.
    expect((await zshComplete('agentctl ps --wat')).buffer).toBe('agentctl ps --wat');
    // Several commands: listed with their descriptions, the line as typed.
    const c = await zshComplete('agentctl c');
    expect(c.buffer).toBe('agentctl c');
    expect([...c.listing.matchAll(/^(\S+) +-- /gm)].map((m) => m[1])).toEqual([
      'cleanup',
      'completion',
      'cp',
    ]);
  }, 120_000);

  it('fish completes commands with their descriptions and flags; zsh parses its script', async () => {
    const fish = path.join(bin, 'c.fish');
    writeFileSync(fish, await script('fish'));
    const run = async (line: string) =>
      (await shell('fish', ['-c', `source ${fish}; complete -C '${line}'`])).split('\n').filter(Boolean);
    expect((await run('agentctl ap'))[0]).toMatch(/^apply\tconverge Docker to the agents file/);
    expect(await run('agentctl apply --wa')).toEqual(['--wait', '--wait-ready', '--watch']);
    const zsh = path.join(bin, '_agentctl');
    writeFileSync(zsh, await script('zsh'));
    await shell('zsh', ['-n', zsh]);
    expect(await script('zsh')).toMatch(/^#compdef agentctl\n/);
  });

  it('an unknown shell is a usage error naming the choices', async () => {
    const r = await agentctlAsync(['completion', 'tcsh']);
    expect(r.status).toBe(1); // usage errors exit 1, as every command's do
    expect(r.stderr).toMatch(/bash, zsh, fish/);
  });
});
