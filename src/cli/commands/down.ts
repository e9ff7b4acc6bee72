import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { down, type DownResult } from '../../ops/down.js';
import { downToJson } from '../../render/json-results.js';
import { unreachableText } from '../../fleet/open-engines.js';
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
        // Data asked to go but kept (another container uses it), or an engine not reached, is a failure:
        // exit 1, and say why.
        if (result.keptData.length > 0 || (result.unreachable ?? []).length > 0)
          process.exitCode = EXIT.failure;
        const hosts = new Map((desired.engines ?? []).map((e) => [e.name, e.host]));
        for (const u of result.unreachable ?? [])
          process.stderr.write(`agentctl: ${unreachableText(u, hosts.get(u.engine))}\n`);
        if (opts.output === 'json') {
          printJson(downToJson(desired.project, opts.dryRun === true, result));
          return;
        }
        if (opts.dryRun) {
          printDryRun(desired.project, result, opts.data === true);
          return;
        }
        for (const r of result.removed) process.stdout.write(`removed ${r.container}${on(r.engine)}\n`);
        for (const d of result.removedDataOn ??
          result.removedData.map((path) => ({ path, engine: undefined })))
          process.stdout.write(`deleted ${d.path}${on(d.engine)}\n`);
        for (const k of result.keptData) {
          process.stderr.write(`agentctl: kept ${k.path}${on(k.engine)}: ${k.reason}; not deleting it\n`);
        }
        const kept = opts.data ? '' : ' (working directories kept; use --data to delete them)';
        process.stdout.write(
          `${result.removed.length} container(s) removed from project "${desired.project}"${kept}\n`,
        );
      },
    );
}

/** ` on engine E` for a file with engines: (nothing for one engine, whose output stays as it was). */
function on(engine: string | undefined): string {
  return engine === undefined ? '' : ` on engine ${engine}`;
}

function printDryRun(project: string, result: DownResult, data: boolean): void {
  if (result.unreachable !== undefined) {
    printDryRunPerEngine(result);
  } else {
    for (const r of result.removed) process.stdout.write(`would remove ${r.container}\n`);
    for (const d of result.removedData) process.stdout.write(`would delete ${d}\n`);
    for (const k of result.keptData) process.stdout.write(`would keep ${k.path}: ${k.reason}\n`);
  }
  const kept = data ? '' : ' (working directories would be kept; --data deletes them)';
  process.stdout.write(
    `dry run: ${result.removed.length} container(s) of project "${project}" would be removed${kept}; nothing was changed\n`,
  );
}

/** A file with engines: what would happen, engine by engine (in name order). */
function printDryRunPerEngine(result: DownResult): void {
  const engines = [
    ...new Set([
      ...result.removed.map((r) => r.engine ?? ''),
      ...(result.removedDataOn ?? []).map((d) => d.engine),
      ...result.keptData.map((k) => k.engine ?? ''),
    ]),
  ].sort();
  for (const e of engines) {
    process.stdout.write(`engine ${e}:\n`);
    for (const r of result.removed.filter((x) => x.engine === e))
      process.stdout.write(`  would remove ${r.container}\n`);
    for (const d of (result.removedDataOn ?? []).filter((x) => x.engine === e))
      process.stdout.write(`  would delete ${d.path}\n`);
    for (const k of result.keptData.filter((x) => x.engine === e))
      process.stdout.write(`  would keep ${k.path}: ${k.reason}\n`);
  }
}
