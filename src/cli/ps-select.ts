/** ps's row selection and quiet output: `--state S` keeps one engine state, `-q` prints only agent ids. */
import { Option } from 'commander';

/** The engine's container states, plus `missing` for a declared agent without a container. */
export const PS_STATES = [
  'running',
  'created',
  'restarting',
  'paused',
  'exited',
  'dead',
  'removing',
  'missing',
];

export function stateOption(): Option {
  return new Option('--state <state>', 'only agents in this state').choices(PS_STATES);
}

export function quietOption(): Option {
  return new Option('-q, --quiet', 'print only agent ids, one per line (for scripts: xargs agentctl stop)');
}

export function selectRows<T extends { state: string }>(rows: T[], state: string | undefined): T[] {
  return state === undefined ? rows : rows.filter((r) => r.state === state);
}

/** Handles -q: true when it printed the ids and nothing else should be. */
export function printQuiet(rows: { agent: string }[], quiet: boolean | undefined): boolean {
  if (!quiet) return false;
  process.stdout.write(rows.map((r) => `${r.agent}\n`).join(''));
  return true;
}
