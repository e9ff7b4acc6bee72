import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { down, type DownResult } from '../../ops/down.js';
import { downToJson } from '../../render/json-results.js';
import {
  fileOption,
  loadDesired,
  nonNegativeInt,
  outputOption,
  positiveInt,
  printJson,
  type OutputFormat,
} from '../io.js';

export function registerDown(program: Command): void {
  program
    .command('down')
    .description("remove the project's containers (working directories are kept unless --data)")
    .addOption(fileOption())
    .addOption(outputOption())
    .option(
      '--data',
      "also delete the agents' working directories, except those another container still mounts (never follows a symlink)",
    )
    .option(
      '-t, --timeout <seconds>',
      'grace period when stopping a container',
      nonNegativeInt('--timeout'),
      10,
    )
    .option('-p, --parallel <n>', 'containers stopped and removed at once', positiveInt('--parallel'), 4)
    .option('--dry-run', 'say what would be removed and deleted, and change nothing')
    .option(
      '--wait <seconds>',
      'wait this long for another run holding the project lock',
      nonNegativeInt('--wait'),
      0,
    )
    .action(
      async (opts: {
        file: string;
        output: OutputFormat;
        data?: boolean;
        timeout: number;
        wait: number;
        parallel: number;
        dryRun?: boolean;
      }) => {
        const desired = await loadDesired(opts.file, { quietWarnings: true });
        const result = await down(desired, {
          removeData: opts.data,
          stopTimeoutSeconds: opts.timeout,
          lockWaitMs: opts.wait * 1000,
          dryRun: opts.dryRun,
          parallel: opts.parallel,
        });
        // Data asked to go but kept (another container uses it) is a failure: exit 1, and say why.
        if (result.keptData.length > 0) process.exitCode = EXIT.failure;
        if (opts.output === 'json') {
          printJson(downToJson(desired.project, opts.dryRun === true, result));
          return;
        }
        if (opts.dryRun) {
          printDryRun(desired.project, result, opts.data === true);
          return;
        }
        for (const r of result.removed) process.stdout.write(`removed ${r.container}\n`);
        for (const d of result.removedData) process.stdout.write(`deleted ${d}\n`);
        for (const k of result.keptData) {
          process.stderr.write(`agentctl: kept ${k.path}: ${k.reason}; not deleting it\n`);
        }
        const kept = opts.data ? '' : ' (working directories kept; use --data to delete them)';
        process.stdout.write(
          `${result.removed.length} container(s) removed from project "${desired.project}"${kept}\n`,
        );
      },
    );
}

function printDryRun(project: string, result: DownResult, data: boolean): void {
  for (const r of result.removed) process.stdout.write(`would remove ${r.container}\n`);
  for (const d of result.removedData) process.stdout.write(`would delete ${d}\n`);
  for (const k of result.keptData) process.stdout.write(`would keep ${k.path}: ${k.reason}\n`);
  const kept = data ? '' : ' (working directories would be kept; --data deletes them)';
  process.stdout.write(
    `dry run: ${result.removed.length} container(s) of project "${project}" would be removed${kept}; nothing was changed\n`,
  );
}
