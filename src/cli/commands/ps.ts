import type { Command } from 'commander';
import { ps } from '../../ops/ps.js';
import { renderTable } from '../../render/table.js';
import { formatBytes, formatCpus, formatDuration } from '../../render/units.js';
import { fileOption, loadDesired, outputOption, printJson, type OutputFormat } from '../io.js';

export function registerPs(program: Command): void {
  program
    .command('ps')
    .description("list the project's agents and their containers")
    .addOption(fileOption())
    .addOption(outputOption())
    .action(async (opts: { file: string; output: OutputFormat }) => {
      const desired = await loadDesired(opts.file, { quietWarnings: true });
      const rows = await ps(desired);
      if (opts.output === 'json') {
        printJson(rows);
        return;
      }
      const table = rows.map((r) => [
        r.agent + (r.declared ? '' : ' (not in file)'),
        r.container,
        r.state,
        r.image,
        r.memoryBytes !== undefined ? formatBytes(r.memoryBytes) : '-',
        r.nanoCpus !== undefined ? formatCpus(r.nanoCpus) : '-',
        r.uptimeMs !== undefined ? formatDuration(r.uptimeMs) : '-',
      ]);
      process.stdout.write(
        `${renderTable(['AGENT', 'CONTAINER', 'STATE', 'IMAGE', 'MEMORY', 'CPUS', 'UPTIME'], table)}\n`,
      );
    });
}
