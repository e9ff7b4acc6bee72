import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { LOCAL_ENGINE } from '../../types.js';
import { type StatsRow, StatsSampler } from '../../ops/stats.js';
import { statsRowToJson } from '../../render/json.js';
import { renderTable } from '../../render/table.js';
import { humanBytes } from '../../render/units.js';
import { outputOption, printJson, type OutputFormat } from '../io.js';
import { engineOption, projectOption, resolveTarget, targetFileOption, type TargetFlags } from '../target.js';

const REFRESH_MS = 2000;

interface Flags extends TargetFlags {
  output: OutputFormat;
  stream: boolean;
}

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('CPU, memory, pids and /mnt disk use of running agents (live on a terminal)')
    .addOption(targetFileOption())
    .addOption(projectOption())
    .addOption(engineOption())
    .addOption(outputOption())
    .option('--no-stream', 'print one sample and exit')
    .action(async (flags: Flags) => {
      const { project, desired, engine } = await resolveTarget(flags);
      const sampler = new StatsSampler({ project, desired, engine });
      const live = flags.stream && flags.output === 'text' && Boolean(process.stdout.isTTY);
      if (!live) {
        const rows = await sampler.sample();
        if (flags.output === 'json') printJson(rows.map(statsRowToJson));
        else process.stdout.write(`${renderStats(rows)}\n`);
        // The other engines' rows are shown; the missing ones are said and make the exit code 1.
        for (const e of sampler.unreachable) process.stderr.write(`agentctl: ${e.message}\n`);
        if (sampler.unreachable.length > 0) process.exitCode = EXIT.failure;
        return;
      }
      // Ctrl-C is the way out of the live view; nothing is left to clean up.
      process.once('SIGINT', () => process.exit(0));
      for (;;) {
        const rows = await sampler.sample();
        // Home and clear, then the table: a full redraw, like `docker stats`.
        const missing = sampler.unreachable.map((e) => `agentctl: ${e.message}\n`).join('');
        process.stdout.write(`\x1b[H\x1b[2J${renderStats(rows)}\n${missing}`);
        await new Promise((r) => setTimeout(r, REFRESH_MS));
      }
    });
}

export function renderStats(rows: StatsRow[]): string {
  // An engine column only where agents run on more than the local engine.
  const engines = rows.some((r) => r.engine !== LOCAL_ENGINE);
  const table = rows.map((r) => [
    r.project,
    r.agent,
    ...(engines ? [r.engine] : []),
    r.cpuPercent === undefined ? '-' : `${r.cpuPercent.toFixed(1)}%`,
    `${humanBytes(r.memoryBytes)} / ${humanBytes(r.memoryLimitBytes)}`,
    r.memoryLimitBytes > 0 ? `${((100 * r.memoryBytes) / r.memoryLimitBytes).toFixed(1)}%` : '-',
    String(r.pids),
    r.diskBytes === undefined ? '-' : `${r.diskComplete ? '' : '>='}${humanBytes(r.diskBytes)}`,
  ]);
  return renderTable(
    [
      'PROJECT',
      'AGENT',
      ...(engines ? ['ENGINE'] : []),
      'CPU %',
      'MEM USAGE / LIMIT',
      'MEM %',
      'PIDS',
      'DISK (/mnt)',
    ],
    table,
  );
}
