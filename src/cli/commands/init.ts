import type { Command } from 'commander';
import { init } from '../../ops/init.js';
import { outputOption, printJson, type OutputFormat } from '../io.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write a commented starter agents.yaml (refuses to overwrite one without --force)')
    .option('-f, --file <path>', 'the file to write', 'agents.yaml')
    .option('--force', 'overwrite the file if it exists')
    .addOption(outputOption())
    .action((opts: { file: string; force?: boolean; output: OutputFormat }) => {
      const r = init(opts.file, { force: opts.force });
      if (opts.output === 'json') printJson(r);
      else
        process.stdout.write(`wrote ${opts.file}; next: agentctl validate, agentctl diff, agentctl apply\n`);
    });
}
