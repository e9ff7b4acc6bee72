import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { diff } from '../../ops/reconcile.js';
import { diffFleet } from '../../fleet/reconcile.js';
import { useColor } from '../../render/color.js';
import { hasChanges, planToJson, renderPlan } from '../../render/plan-text.js';
import { applyCheckToJson, renderBuilds, renderProblems, wouldRefuse } from '../../render/apply-check.js';
import { targetOption } from '../target-option.js';
import { fileOption, loadDesired, outputOption, printJson, type OutputFormat } from '../io.js';

interface DiffFlags {
  file: string;
  output: OutputFormat;
  prune: boolean;
  allowEmpty?: boolean;
  target?: string[];
  migrate?: boolean;
  build?: boolean;
  allowForeignChange?: boolean;
}

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description(
      'show what apply would build and change, and what would stop it (exit 0: in sync, 2: changes pending, 1: apply would be refused, an engine is unreachable, or an error)',
    )
    .addOption(fileOption())
    .addOption(outputOption())
    .option('--no-prune', 'do not plan removal of agents missing from the file')
    .option('--allow-empty', 'allow a file with no agents to plan removing every agent')
    .addOption(targetOption())
    .option('--migrate', 'plan moving agents whose engine changed, with their data (see apply --migrate)')
    .option('--build', 'plan rebuilding every image the file declares with build: (as apply --build)')
    .option(
      '--allow-foreign-change',
      'plan as apply --allow-foreign-change would: agents another file created are taken over (recreated)',
    )
    .action(async (opts: DiffFlags) => {
      const desired = await loadDesired(opts.file);
      const common = {
        prune: opts.prune,
        allowEmpty: opts.allowEmpty,
        build: opts.build ? 'always' : 'missing',
        allowForeignChange: opts.allowForeignChange,
      } as const;
      // A file with engines: is planned over all of them (--target: the targets on whichever engines).
      const { plan, check } = desired.engines
        ? await diffFleet(desired, { ...common, migrate: opts.migrate, targets: opts.target })
        : await diff(desired, { ...common, targets: opts.target });
      if (opts.output === 'json') printJson({ ...(planToJson(plan) as object), ...applyCheckToJson(check) });
      else {
        const color = useColor(process.stdout);
        const builds = renderBuilds(check, color);
        const after = renderProblems(check, color);
        const text = [...builds, ...(builds.length > 0 ? [''] : []), renderPlan(plan, color), ...after];
        process.stdout.write(`${text.join('\n')}\n`);
      }
      // An engine that could not be asked leaves its agents unknown: neither "in sync" nor "changes only".
      if (wouldRefuse(plan.conflicts.length, check) || (plan.unreachable?.length ?? 0) > 0)
        process.exitCode = EXIT.failure;
      else if (hasChanges(plan) || check.builds.length > 0) process.exitCode = EXIT.changes;
    });
}
