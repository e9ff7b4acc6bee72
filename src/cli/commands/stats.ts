import type { Command } from 'commander';
import { type StatsRow, StatsSampler } from '../../ops/stats.js';
import { statsRowToJson } from '../../render/json.js';
import { renderTable } from '../../render/table.js';
import { humanBytes } from '../../render/units.js';
import { outputOption, printJson, type OutputFormat } from '../io.js';
import { projectOption, resolveTarget, targetFileOption, type TargetFlags } from '../target.js';

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
    .addOption(outputOption())
    .option('--no-stream', 'print one sample and exit')
    .action(async (flags: Flags) => {
      const { project } = await resolveTarget(flags);
      const sampler = new StatsSampler({ project });
      const live = flags.stream && flags.output === 'text' && Boolean(process.stdout.isTTY);
      if (!live) {
        const rows = await sampler.sample();
        if (flags.output === 'json') printJson(rows.map(statsRowToJson));
        else process.stdout.write(`${renderStats(rows)}\n`);
        return;
      }
      // Ctrl-C is the way out of the live view; nothing is left to clean up.
      process.once('SIGINT', () => process.exit(0));
      for (;;) {
        const rows = await sampler.sample();
        // Home and clear, then the table: a full redraw, like `docker stats`.
        process.stdout.write(`\x1b[H\x1b[2J${renderStats(rows)}\n`);
        await new Promise((r) => setTimeout(r, REFRESH_MS));
      }
    });
}

export function renderStats(rows: StatsRow[]): string {
  const table = rows.map((r) => [
    r.project,
    r.agent,
    r.cpuPercent === undefined ? '-' : `${r.cpuPercent.toFixed(1)}%`,
    `${humanBytes(r.memoryBytes)} / ${humanBytes(r.memoryLimitBytes)}`,
    r.memoryLimitBytes > 0 ? `${((100 * r.memoryBytes) / r.memoryLimitBytes).toFixed(1)}%` : '-',
    String(r.pids),
    r.diskBytes === undefined ? '-' : `${r.diskComplete ? '' : '>='}${humanBytes(r.diskBytes)}`,
  ]);
  return renderTable(
    ['PROJECT', 'AGENT', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'PIDS', 'DISK (/mnt)'],
    table,
  );
}
