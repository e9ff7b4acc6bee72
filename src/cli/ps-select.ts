/**
 * ps's row selection and its other outputs: `--state S` keeps one engine state, `-q` prints only agent
 * ids, `--format` prints each row through a template (after --state, like the table).
 */
import { Option } from 'commander';
import { AgentctlError } from '../errors.js';
import { type AgentRow, stateText } from '../ops/ps.js';
import { psRowToJson } from '../render/json.js';
import { compileFormat, type FormatField } from '../render/row-format.js';
import { formatBytes, formatCpus, formatDuration } from '../render/units.js';

/**
 * The engine's container states, plus `missing` for a declared agent without a container and `unknown`
 * for one whose engine could not be reached.
 */
export const PS_STATES = [
  'running',
  'created',
  'restarting',
  'paused',
  'exited',
  'dead',
  'removing',
  'missing',
  'unknown',
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

/** ps --format's fields: `.ID` is the agent id, as `-q` prints it. */
export const PS_FORMAT_FIELDS: Record<string, FormatField<PsFormatRow>> = {
  ID: { header: 'AGENT', value: (r) => r.agent },
  Agent: { header: 'AGENT', value: (r) => r.agent },
  Project: { header: 'PROJECT', value: (r) => r.project ?? '' },
  Engine: { header: 'ENGINE', value: (r) => r.engine ?? 'local' },
  Container: { header: 'CONTAINER', value: (r) => r.container },
  ContainerID: { header: 'CONTAINER ID', value: (r) => r.containerId?.slice(0, 12) ?? '' },
  State: { header: 'STATE', value: (r) => r.state },
  Status: { header: 'STATUS', value: (r) => stateText(r) },
  Image: { header: 'IMAGE', value: (r) => r.image },
  Memory: { header: 'MEMORY', value: (r) => (r.memoryBytes !== undefined ? formatBytes(r.memoryBytes) : '') },
  CPUs: { header: 'CPUS', value: (r) => (r.nanoCpus !== undefined ? formatCpus(r.nanoCpus) : '') },
  Uptime: { header: 'UPTIME', value: (r) => (r.uptimeMs !== undefined ? formatDuration(r.uptimeMs) : '') },
  Declared: { header: 'DECLARED', value: (r) => (r.declared === undefined ? '' : String(r.declared)) },
};

/** A row of either table: a file's (declared known) or every project's (project known). */
export type PsFormatRow = Omit<AgentRow, 'declared'> & { project?: string; declared?: boolean };

export function formatOption(): Option {
  return new Option(
    '--format <template>',
    `print each agent with a template: {{.ID}}\\t{{.State}}, "table ..." adds a header (fields: ${Object.keys(PS_FORMAT_FIELDS).join(', ')}; {{json .}})`,
  );
}

/** Handles --format: true when it printed the rows. Refuses flags that also say how to print. */
export function printFormatted(
  rows: PsFormatRow[],
  opts: { format?: string; quiet?: boolean; output?: string },
  project?: string,
): boolean {
  if (opts.format === undefined) return false;
  if (opts.quiet || opts.output === 'json')
    throw new AgentctlError('usage', `--format cannot be combined with ${opts.quiet ? '-q' : '-o json'}`);
  const f = compileFormat(opts.format, PS_FORMAT_FIELDS, (r) => psRowToJson(r, project));
  // A file's rows are all of its project: .Project says so, as in every project's table.
  process.stdout.write(f.render(rows.map((r) => ({ ...r, project: r.project ?? project }))));
  return true;
}
