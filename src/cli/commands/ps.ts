import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { AgentctlError, EXIT } from '../../errors.js';
import { hasOtherEngines } from '../../fleet/engines-of.js';
import { unreachableText } from '../../fleet/open-engines.js';
import { type AgentRow, pressedFilesystems, psAll, psReport, stateText } from '../../ops/ps.js';
import { pressureFlag, pressureText } from '../../reconcile/free-space.js';
import { psRowToJson } from '../../render/json.js';
import { renderTable } from '../../render/table.js';
import { formatBytes, formatCpus, formatDuration } from '../../render/units.js';
import { fileOption, loadDesired, outputOption, printJson, type OutputFormat } from '../io.js';
import {
  formatOption,
  printFormatted,
  printQuiet,
  quietOption,
  selectRows,
  stateOption,
} from '../ps-select.js';

interface PsFlags {
  file: string;
  output: OutputFormat;
  all?: boolean;
  project?: string;
  state?: string;
  quiet?: boolean;
  format?: string;
}

export function registerPs(program: Command): void {
  program
    .command('ps')
    .description(
      "list the project's agents (-f, or ./agents.yaml if present); otherwise every agent we manage",
    )
    .addOption(fileOption())
    .addOption(outputOption())
    .option('-a, --all', 'every agent we manage on the engine, of all projects')
    .option('--project <name>', "only this project's agents (without a file)")
    .addOption(stateOption())
    .addOption(quietOption())
    .addOption(formatOption())
    .action(async (opts: PsFlags, cmd: Command) => {
      // No file named and none here (or --all, or --project): every agent we manage, by project.
      const fileNamed = cmd.getOptionValueSource('file') === 'cli';
      if (opts.all || (!fileNamed && (opts.project !== undefined || !existsSync(opts.file)))) {
        await printAll(opts);
        return;
      }
      const desired = await loadDesired(opts.file, { quietWarnings: true });
      const report = await psReport(desired);
      // An engine not looked at is a failure whatever is printed: its agents' state is unknown.
      if (report.unreachable.length > 0) process.exitCode = EXIT.failure;
      const hosts = new Map((desired.engines ?? []).map((e) => [e.name, e.host]));
      for (const u of report.unreachable)
        process.stderr.write(`agentctl: ${unreachableText(u, hosts.get(u.engine))}\n`);
      const rows = selectRows(report.rows, opts.state);
      if (printFormatted(rows, opts, desired.project)) return;
      if (printQuiet(rows, opts.quiet)) return;
      if (opts.output === 'json') {
        printJson(rows.map((r) => psRowToJson(r, desired.project)));
        return;
      }
      // The ENGINE column only for a file with engines: (a one-engine table stays as it was).
      const engines = hasOtherEngines(desired);
      const table = rows.map((r) => [
        r.agent + agentNote(r),
        ...(engines ? [r.engine ?? ''] : []),
        r.container,
        r.unreachable !== undefined ? `${r.state} (engine unreachable)` : stateText(r),
        ...liveCells(r),
      ]);
      const head = ['AGENT', ...(engines ? ['ENGINE'] : []), 'CONTAINER', 'STATE'];
      process.stdout.write(`${renderTable([...head, 'IMAGE', 'MEMORY', 'CPUS', 'UPTIME'], table)}\n`);
      warnDiskPressure(rows);
    });
}

/** Why a row is not simply the file's agent: not in the file, or a copy away from its engine. */
function agentNote(r: Pick<AgentRow, 'declared' | 'strayFrom'>): string {
  if (r.strayFrom !== undefined) return ` (stray: the file puts it on engine ${r.strayFrom})`;
  return r.declared ? '' : ' (not in file)';
}

async function printAll(opts: PsFlags): Promise<void> {
  const every = await psAll({ project: opts.project });
  if (opts.project !== undefined && every.length === 0) await unknownProject(opts.project);
  const rows = selectRows(every, opts.state);
  if (printFormatted(rows, opts)) return;
  if (printQuiet(rows, opts.quiet)) return;
  if (opts.output === 'json') {
    printJson(rows.map((r) => psRowToJson(r)));
    return;
  }
  const table = rows.map((r) => [r.project, r.agent, r.container, stateText(r), ...liveCells(r)]);
  process.stdout.write(
    `${renderTable(['PROJECT', 'AGENT', 'CONTAINER', 'STATE', 'IMAGE', 'MEMORY', 'CPUS', 'UPTIME'], table)}\n`,
  );
  warnDiskPressure(rows);
}

/** Under the table, on stderr (the table stays what scripts read): each filesystem short of space. */
function warnDiskPressure(rows: readonly Pick<AgentRow, 'filesystem'>[]): void {
  for (const d of pressedFilesystems(rows)) process.stderr.write(`${pressureFlag(d)}${pressureText(d)}\n`);
}

/** IMAGE, MEMORY, CPUS and UPTIME: the same in both tables. */
function liveCells(r: Pick<AgentRow, 'image' | 'memoryBytes' | 'nanoCpus' | 'uptimeMs'>): string[] {
  return [
    r.image,
    r.memoryBytes !== undefined ? formatBytes(r.memoryBytes) : '-',
    r.nanoCpus !== undefined ? formatCpus(r.nanoCpus) : '-',
    r.uptimeMs !== undefined ? formatDuration(r.uptimeMs) : '-',
  ];
}

/**
 * `--project P` with no agent on the engine is most likely a typo: exit 1 (`not-found`), naming the
 * projects that are there, rather than an empty table that looks like a stopped fleet. (A project that
 * is down has no containers either: its file, `ps -f`, still lists its agents as missing.)
 */
async function unknownProject(project: string): Promise<never> {
  const known = [...new Set((await psAll()).map((r) => r.project))];
  const here =
    known.length > 0 ? `; projects on this engine: ${known.join(', ')}` : '; agentctl manages no agents here';
  throw new AgentctlError('not-found', `no agents of project "${project}" on this engine${here}`);
}
