import type { Command } from 'commander';
import { AgentctlError, EXIT } from '../../errors.js';
import { reconcile } from '../../ops/reconcile.js';
import { reconcileFleet } from '../../fleet/reconcile.js';
import { sharedApplyOptions } from '../apply-options.js';
import { buildProgress } from '../build-output.js';
import { exitCodeForSignal, interruptible } from '../interrupt.js';
import type { WatchFlags } from '../watch.js';
import { useColor } from '../../render/color.js';
import { hasChanges, planToJson, renderPlan, targetNote } from '../../render/plan-text.js';
import { OverallProgress } from '../../render/overall-progress.js';
import { egressProgressLine, progressLine, reportSummary, reportToJson } from '../../render/report.js';
import { targetOption } from '../target-option.js';
import { fileOption, loadDesired, nonNegativeInt, outputOption, positiveInt, printJson } from '../io.js';

interface ApplyFlags extends WatchFlags {
  watch?: boolean;
  waitReady: number;
  build?: boolean;
  target?: string[];
  migrate?: boolean;
}

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description('converge Docker to the agents file (exit 0: converged, 1: something failed)')
    .addOption(fileOption())
    .addOption(outputOption())
    .option('--dry-run', 'plan and run the preflight checks, change nothing (and build nothing)')
    .option('--build', 'rebuild every image the file declares with build: (missing ones are always built)')
    .option('--no-prune', 'keep containers of agents that are no longer in the file')
    .addOption(targetOption())
    .option(
      '--migrate',
      'move agents whose engine changed: create on the new engine, copy /mnt, verify, remove the old container',
    )
    .option('-p, --parallel <n>', 'agents worked on at once', positiveInt('--parallel'), 4)
    .option(
      '-t, --timeout <seconds>',
      'grace period when stopping a container',
      nonNegativeInt('--timeout'),
      10,
    )
    .option('--allow-empty', 'allow a file with no agents to remove every agent of the project')
    .option(
      '--allow-mass-prune',
      "allow removing more than half of the project's agents (refused otherwise: a truncated file looks so)",
    )
    .option(
      '--allow-foreign-prune',
      'allow removing agents that another file naming the same project created (refused otherwise)',
    )
    .option(
      '--allow-foreign-change',
      'allow changing agents that another file naming the same project created (a recreate makes this file their owner)',
    )
    .option(
      '--wait <seconds>',
      'wait this long for another run holding the project lock',
      nonNegativeInt('--wait'),
      0,
    )
    .option(
      '--min-free <size>',
      'free space the runtime directory needs before agents are created (default: AGENTCTL_MIN_FREE or 100m; 0: none)',
    )
    .option(
      '--min-free-inodes <n>',
      'free inodes it needs (default: AGENTCTL_MIN_FREE_INODES or 1000; 0: none)',
    )
    .option(
      '--wait-ready <seconds>',
      'after changing agents, wait this long and fail (exit 1) for any that exited or restart-loop; 0 skips',
      nonNegativeInt('--wait-ready'),
      3,
    )
    .option('-w, --watch', 'apply, then keep converging on file changes and engine events until stopped')
    .option('--resync <seconds>', 'with --watch: full resync period', positiveInt('--resync'), 30)
    .option(
      '--debounce <ms>',
      'with --watch: quiet time that collapses a burst of changes',
      nonNegativeInt('--debounce'),
      100,
    )
    .action(async (opts: ApplyFlags, cmd: Command) => {
      refuseWatchOnlyFlags(opts, cmd);
      // Loaded on demand: the watcher (and chokidar) is its own chunk, off the one-shot apply's path.
      if (opts.watch) return (await import('../watch.js')).runWatch(opts);
      const desired = await loadDesired(opts.file);
      const text = opts.output === 'text';
      const color = useColor(process.stderr);
      // N of M on a terminal only: a log file or a pipe gets the per-agent lines alone.
      const overall =
        text && !opts.dryRun && process.stderr.isTTY && process.stdout.isTTY
          ? new OverallProgress(process.stderr, { color })
          : undefined;
      const say = (line: string) => (overall ? overall.printAbove(line) : process.stderr.write(`${line}\n`));
      const { result, interruptedBy } = await interruptible(
        (signal) =>
          (desired.engines ? reconcileFleet : reconcile)(desired, {
            migrate: opts.migrate,
            onMigrationStep: (agent, step) => {
              if (text) process.stderr.write(`${agent}: migrate: ${step}\n`);
            },
            signal,
            dryRun: opts.dryRun,
            build: opts.build ? 'always' : 'missing',
            buildOptions: buildProgress(),
            ...sharedApplyOptions(opts),
            targets: opts.target,
            waitReadyMs: opts.dryRun ? 0 : opts.waitReady * 1000,
            onHostWarning: (w) => say(`warning: ${w}`),
            onSettleWait: (n, ms) => {
              overall?.end();
              if (text) process.stderr.write(`waiting ${ms / 1000}s for ${n} agent(s) to settle...\n`);
            },
            // The plan goes to stdout first so a reader sees what is about to happen; progress to stderr.
            onPlan: (p) => {
              if (text && hasChanges(p))
                process.stdout.write(`${renderPlan(p, useColor(process.stdout))}\n\n`);
              // Nothing to show, but "no changes" must not read as the whole project's state.
              else if (text && targetNote(p)) process.stdout.write(`${targetNote(p)}\n`);
              overall?.begin(p.actions.length);
            },
            onProgress: (e) => {
              if (e.type === 'begin') overall?.actionBegan();
              else overall?.actionEnded(e.result.ok);
              const line = progressLine(e, color);
              if (line) say(line);
            },
            onEgressProgress: (e) => {
              const line = egressProgressLine(
                e.type === 'end' ? { type: 'end', result: e.result } : { type: 'begin' },
                color,
              );
              if (line) say(line);
            },
          }),
        'apply',
      ).finally(() => overall?.end());
      const { plan, report } = result;
      if (text) {
        // Their progress line said "ok" when the engine started them; this is what happened next.
        for (const r of report.results.filter((x) => x.notReady))
          process.stderr.write(`${progressLine({ type: 'end', result: r }, color)}\n`);
        process.stdout.write(`${reportSummary(report)}\n`);
      } else printJson({ plan: planToJson(plan), report: reportToJson(report) });
      if (interruptedBy) process.exitCode = exitCodeForSignal(interruptedBy);
      else if (!report.ok) process.exitCode = EXIT.failure;
    });
}

/** A flag that only means something under --watch would be silently ignored without it: refuse it. */
function refuseWatchOnlyFlags(opts: ApplyFlags, cmd: Command): void {
  if (opts.watch) {
    // A watcher converges the whole file; a part of it would be undone by nothing, so it is ambiguous.
    if (opts.target) throw new AgentctlError('usage', '--target cannot be used with --watch');
    return;
  }
  const given = ['resync', 'debounce'].filter((name) => cmd.getOptionValueSource(name) === 'cli');
  if (given.length > 0) {
    throw new AgentctlError(
      'usage',
      given.length === 1
        ? `--${given[0]} only applies with --watch (add --watch, or drop it)`
        : `${given.map((n) => `--${n}`).join(' and ')} only apply with --watch (add --watch, or drop them)`,
    );
  }
}
