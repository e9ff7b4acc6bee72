import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { copy } from '../../ops/cp.js';
import { humanBytes } from '../../render/units.js';
import { outputOption, printJson, type OutputFormat } from '../io.js';
import { projectOption, resolveTarget, targetFileOption, type TargetFlags } from '../target.js';

export function registerCp(program: Command): void {
  program
    .command('cp <src> <dest>')
    .description(
      'copy files or directories between the host and an agent: ID:/path on one side (relative agent paths are under /mnt)',
    )
    .addOption(targetFileOption())
    .addOption(projectOption())
    .addOption(outputOption())
    .action(async (src: string, dest: string, flags: TargetFlags & { output: OutputFormat }) => {
      const { project, desired } = await resolveTarget(flags);
      const r = await copy(src, dest, { project, desired });
      if (flags.output === 'json') printJson(r);
      else {
        const what = [
          `${r.files} file(s)`,
          ...(r.directories ? [`${r.directories} director${r.directories === 1 ? 'y' : 'ies'}`] : []),
          ...(r.links ? [`${r.links} link(s)`] : []),
        ].join(', ');
        const skipped = r.skipped.length > 0 ? `, ${r.skipped.length} skipped` : '';
        process.stdout.write(
          `copied ${what}, ${humanBytes(r.bytes)}${skipped}: ${r.source} -> ${r.destination}\n`,
        );
      }
      if (r.skipped.length > 0) {
        for (const s of r.skipped) process.stderr.write(`agentctl: not copied: ${s}\n`);
        process.stderr.write(
          `agentctl: ${r.skipped.length} entr${r.skipped.length === 1 ? 'y was' : 'ies were'} not copied\n`,
        );
        process.exitCode = EXIT.failure;
      }
    });
}
