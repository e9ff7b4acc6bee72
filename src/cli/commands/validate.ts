import type { Command } from 'commander';
import { runtimeDirProblems } from '../../reconcile/preflight.js';
import { AgentctlError } from '../../errors.js';
import { fileOption, loadDesired, outputOption, printJson, type OutputFormat } from '../io.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check an agents file without touching Docker')
    .addOption(fileOption())
    .addOption(outputOption())
    .action(async (opts: { file: string; output: OutputFormat }) => {
      const desired = await loadDesired(opts.file, { quietWarnings: opts.output === 'json' });
      const problems = await runtimeDirProblems(desired, desired.agents);
      if (problems.length > 0) {
        throw new AgentctlError('config', problems[0] ?? '', { details: problems.slice(1) });
      }
      if (opts.output === 'json') {
        printJson({
          valid: true,
          project: desired.project,
          agents: desired.agents.map((a) => a.id),
          warnings: desired.warnings,
        });
        return;
      }
      process.stdout.write(
        `${desired.file}: valid, project "${desired.project}", ${desired.agents.length} agent(s)\n`,
      );
    });
}
