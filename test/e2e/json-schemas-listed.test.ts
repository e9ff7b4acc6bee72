/**
 * Every command whose `--help` offers `-o json` (the built binary's, so a new command cannot slip by) has
 * a schema in schemas/output/ named in the README's JSON output table, and every schema there is listed.
 * The shapes themselves are checked on real output by json-output*.test.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agentctlAsync as agentctl } from '../helpers/cli.js';

/** Command names listed under "Commands:" of a --help text (`help` itself left out). */
function commandsIn(help: string): string[] {
  const section = help.slice(help.indexOf('\nCommands:\n'));
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1] ?? '').filter((c) => c !== 'help');
}

/** README rows `| `cmd`, `cmd2` ... | [`x.json`](schemas/output/x.json) |`: command -> schema files. */
function readmeTable(): Map<string, Set<string>> {
  const readme = readFileSync('README.md', 'utf8');
  const table = new Map<string, Set<string>>();
  for (const line of readme.split('\n')) {
    const file = /\]\(schemas\/output\/([a-z-]+\.json)\)/.exec(line)?.[1];
    if (!file || !line.startsWith('|')) continue;
    const first = line.split('|')[1] ?? '';
    // A row naming no command (error.json's "any command above") is listed under its words.
    if (!first.includes('`')) table.set(first.trim(), new Set([file]));
    for (const m of first.matchAll(/`([^`]+)`/g)) {
      const words = (m[1] ?? '').split(' ');
      const name = words.slice(0, words.findIndex((w) => w.startsWith('-')) >>> 0).join(' ');
      if (name) table.set(name, (table.get(name) ?? new Set()).add(file));
    }
  }
  return table;
}

describe('every -o json has a documented schema', () => {
  it('each command with -o json is in the README table with an existing schema file, and back', async () => {
    const top = await agentctl(['--help']);
    const withJson: string[] = [];
    const visit = async (path: string[]): Promise<void> => {
      const help = (await agentctl([...path, '--help'])).stdout;
      if (/-o, --output <format>/.test(help) && /"json"/.test(help)) withJson.push(path.join(' '));
      for (const sub of commandsIn(help)) await visit([...path, sub]);
    };
    for (const c of commandsIn(top.stdout)) await visit([c]);
    // The commands known to print JSON today; a new one must be added to the README table (and here).
    expect(withJson.sort()).toEqual(
      [
        'apply',
        'build',
        'cleanup',
        'cp',
        'diff',
        'down',
        'egress log',
        'init',
        'inspect',
        'logs',
        'ps',
        'render',
        'restart',
        'rm',
        'run',
        'start',
        'stats',
        'stop',
        'validate',
      ].sort(),
    );
    const table = readmeTable();
    for (const c of withJson) {
      const files = [...(table.get(c) ?? [])];
      expect(files.length, `${c} in the README's JSON output table`).toBeGreaterThan(0);
      for (const f of files) expect(existsSync(`schemas/output/${f}`), `schemas/output/${f}`).toBe(true);
    }
    const listed = new Set([...table.values()].flatMap((files) => [...files]));
    for (const f of readdirSync('schemas/output')) expect(listed, `${f} in the README`).toContain(f);
  }, 240_000);
});
