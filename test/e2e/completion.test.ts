/**
 * `agentctl completion bash|zsh|fish`: the scripts are generated from the built program and driven by the
 * real shells (bash through its completion function, fish through `complete -C`; zsh is checked for
 * syntax, as its completion system needs an interactive shell). Agent ids come from the live project:
 * the `agentctl` on PATH is the built binary, run in the project's directory.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentctl, CLI } from '../helpers/cli.js';
import { appliedProject, type TestProject } from '../helpers/project.js';

const bin = mkdtempSync(path.join(os.tmpdir(), 'agentctl-completion-'));
writeFileSync(path.join(bin, 'agentctl'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
chmodSync(path.join(bin, 'agentctl'), 0o755);
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' };

function script(shell: string): string {
  const r = agentctl(['completion', shell]);
  expect(r.status).toBe(0);
  return r.stdout;
}

/** What bash's completion function offers for the words typed so far (the last one being completed). */
function bashComplete(words: string[], cwd = os.tmpdir()): string[] {
  const file = path.join(bin, 'c.bash');
  writeFileSync(file, script('bash'));
  const typed = words.map((w) => `'${w}'`).join(' ');
  const out = execFileSync(
    'bash',
    [
      '-c',
      `source ${file}; COMP_WORDS=(${typed}); COMP_CWORD=${words.length - 1}; _agentctl; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8', cwd, env },
  );
  return out.split('\n').filter(Boolean);
}

describe('agentctl completion (built binary, real shells)', () => {
  const projects: TestProject[] = [];
  afterAll(() => {
    for (const p of projects) p.cleanup();
    rmSync(bin, { recursive: true, force: true });
  });

  it('bash completes commands, subcommands and each command its own flags', () => {
    expect(bashComplete(['agentctl', 'ap'])).toEqual(['apply']);
    expect(bashComplete(['agentctl', 'c'])).toEqual(['cleanup', 'completion', 'cp']);
    expect(bashComplete(['agentctl', 'apply', '--wa'])).toEqual(['--wait', '--wait-ready', '--watch']);
    expect(bashComplete(['agentctl', 'down', '--d'])).toEqual(['--data', '--dry-run']);
    expect(bashComplete(['agentctl', 'egress', ''])).toEqual(['log']);
    // A flag of another command is not offered.
    expect(bashComplete(['agentctl', 'ps', '--wat'])).toEqual([]);
  });

  it("bash and fish complete agent ids from the project's agents", async () => {
    const p = await appliedProject(projects, 'i8cmp', 'agents:\n  coder: {}\n  critic: {}');
    expect(bashComplete(['agentctl', 'exec', 'c'], p.dir)).toEqual(['coder', 'critic']);
    expect(bashComplete(['agentctl', 'logs', 'cr'], p.dir)).toEqual(['critic']);
    const fish = path.join(bin, 'c.fish');
    writeFileSync(fish, script('fish'));
    const offered = execFileSync('fish', ['-c', `source ${fish}; complete -C 'agentctl stop co'`], {
      encoding: 'utf8',
      cwd: p.dir,
      env,
    });
    expect(offered.split('\n').map((l) => l.split('\t')[0])).toContain('coder');
  });

  it('fish completes commands with their descriptions and flags; zsh parses its script', () => {
    const fish = path.join(bin, 'c.fish');
    writeFileSync(fish, script('fish'));
    const run = (line: string) =>
      execFileSync('fish', ['-c', `source ${fish}; complete -C '${line}'`], { encoding: 'utf8', env })
        .split('\n')
        .filter(Boolean);
    expect(run('agentctl ap')[0]).toMatch(/^apply\tconverge Docker to the agents file/);
    expect(run('agentctl apply --wa')).toEqual(['--wait', '--wait-ready', '--watch']);
    const zsh = path.join(bin, '_agentctl');
    writeFileSync(zsh, script('zsh'));
    execFileSync('zsh', ['-n', zsh]);
    expect(script('zsh')).toMatch(/^#compdef agentctl\n/);
  });

  it('an unknown shell is a usage error naming the choices', () => {
    const r = agentctl(['completion', 'tcsh']);
    expect(r.status).toBe(1); // usage errors exit 1, as every command's do
    expect(r.stderr).toMatch(/bash, zsh, fish/);
  });
});
