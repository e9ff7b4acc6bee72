import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_RUNTIME_DIR } from '../../config/defaults.js';
import { EXIT } from '../../errors.js';
import { cleanup } from '../../ops/cleanup.js';
import { hasOtherEngines } from '../../fleet/engines-of.js';
import { cleanupToJson } from '../../render/json-results.js';
import { formatDuration, humanBytes } from '../../render/units.js';
import { parseDuration } from '../../util/duration.js';
import { loadDesired, nonNegativeInt, outputOption, printJson, type OutputFormat } from '../io.js';
import { projectOption, resolveTarget, targetFileOption, type TargetFlags } from '../target.js';

/** The file ps and cleanup read when no -f is given and it exists. */
const DEFAULT_FILE = 'agents.yaml';

interface Flags extends TargetFlags {
  output: OutputFormat;
  olderThan: string;
  dryRun?: boolean;
  runtimeDir?: string;
  wait: number;
}

export function registerCleanup(program: Command): void {
  program
    .command('cleanup')
    .description(
      'remove our stopped containers and unused working directories older than --older-than (never follows symlinks)',
    )
    .option('--older-than <duration>', 'only what stopped or last changed this long ago', '7d')
    .option('--dry-run', 'show what would be removed and freed, remove nothing')
    .option(
      '--runtime-dir <dir>',
      `where working directories live (default: the file's, or ${DEFAULT_RUNTIME_DIR})`,
    )
    .addOption(targetFileOption())
    .addOption(projectOption())
    .addOption(outputOption())
    .option(
      '--wait <seconds>',
      'wait this long for another run holding a project lock',
      nonNegativeInt('--wait'),
      0,
    )
    .action(async (flags: Flags) => {
      const olderThanMs = parseDuration(flags.olderThan, '--older-than');
      const { project, desired } = await resolveTarget(flags);
      const runtimeDir = path.resolve(flags.runtimeDir ?? desired?.runtimeDir ?? DEFAULT_RUNTIME_DIR);
      // Without -f, ./agents.yaml (as for ps) still says which agents are declared: their data stays,
      // and its project's lock is held while directories are deleted. It does not narrow the project.
      const declared =
        desired ??
        (flags.file === undefined && existsSync(DEFAULT_FILE)
          ? await loadDesired(DEFAULT_FILE, { quietWarnings: true })
          : undefined);
      // A file's engines are each cleaned in their own runtimeDir (--runtime-dir is local's).
      const result = await cleanup({
        project,
        runtimeDir,
        desired: declared,
        olderThanMs,
        dryRun: flags.dryRun,
        keep: declared?.agents.map((a) => a.id),
        alsoLock: declared ? [declared.project] : [],
        lockWaitMs: flags.wait * 1000,
      });
      const failed = [...result.containers, ...result.directories].filter((x) => !x.ok);
      const several = hasOtherEngines(declared);
      const on = (engine: string) => (several ? ` on engine ${engine}` : '');
      const refused = result.engines.filter((e) => e.error !== undefined);
      if (flags.output === 'json') printJson(cleanupToJson(project, result));
      else {
        const verb = result.dryRun ? 'would remove' : 'removed';
        const now = Date.now();
        for (const c of result.containers.filter((x) => x.ok)) {
          process.stdout.write(
            `${verb} container ${c.container}${on(c.engine)} (${c.project}/${c.agent}, ${c.state} for ${formatDuration(now - Date.parse(c.since))})\n`,
          );
        }
        for (const d of result.directories.filter((x) => x.ok)) {
          process.stdout.write(
            `${result.dryRun ? 'would delete' : 'deleted'} ${d.path}${on(d.engine)} (${humanBytes(d.bytes)})\n`,
          );
        }
        for (const s of result.skipped) process.stderr.write(`agentctl: left alone: ${s}\n`);
        const n = result.containers.filter((x) => x.ok).length;
        const m = result.directories.filter((x) => x.ok).length;
        process.stdout.write(
          `${result.dryRun ? 'Dry run: would free' : 'Freed'} ${humanBytes(result.freedBytes)} (${result.freedBytes} bytes): ${n} container(s), ${m} working director${m === 1 ? 'y' : 'ies'}\n`,
        );
      }
      for (const f of failed) {
        process.stderr.write(
          `agentctl: ${'container' in f ? f.container : f.path}${on(f.engine)}: ${f.error}\n`,
        );
      }
      // An engine not (fully) looked at: the transport's message names the engine already when it can.
      for (const e of refused) {
        const msg = e.error ?? '';
        process.stderr.write(
          `agentctl: ${msg.startsWith(`engine ${e.engine} `) ? msg : `engine ${e.engine}: ${msg}`}\n`,
        );
      }
      if (failed.length > 0 || refused.length > 0) process.exitCode = EXIT.failure;
    });
}
