import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import {
  type LifecycleResult,
  type RemoveResult,
  removeAgents,
  restartAgents,
  startAgents,
  stopAgents,
} from '../../ops/lifecycle.js';
import { lifecycleToJson } from '../../render/json-results.js';
import { humanBytes } from '../../render/units.js';
import { nonNegativeInt, outputOption, printJson, type OutputFormat } from '../io.js';
import { engineOption, projectOption, resolveTarget, targetFileOption, type TargetFlags } from '../target.js';

interface Flags extends TargetFlags {
  output: OutputFormat;
  timeout: number;
  data?: boolean;
  wait?: number;
  force?: boolean;
}

const timeoutOption = (cmd: Command) =>
  cmd.option(
    '-t, --timeout <seconds>',
    'grace period before a stopping container is killed',
    nonNegativeInt('--timeout'),
    10,
  );

export function registerLifecycle(program: Command): void {
  const verbs = [
    ['start', 'start stopped agents', 'started', startAgents],
    [
      'stop',
      'stop agents (SIGTERM, then SIGKILL after --timeout); apply starts them again',
      'stopped',
      stopAgents,
    ],
    ['restart', 'restart agents (a stopped agent is started)', 'restarted', restartAgents],
  ] as const;
  for (const [name, description, done, op] of verbs) {
    const cmd = program
      .command(`${name} <ids...>`)
      .description(description)
      .addOption(targetFileOption())
      .addOption(projectOption())
      .addOption(engineOption())
      .addOption(outputOption());
    if (name !== 'start') timeoutOption(cmd);
    cmd.option('--force', `${name} even where a running apply --watch of the project will undo it`);
    cmd.action(async (ids: string[], flags: Flags) => {
      const { project, desired, engine } = await resolveTarget(flags);
      report(
        await op(ids, { project, desired, engine, stopTimeoutSeconds: flags.timeout, force: flags.force }),
        flags.output,
        done,
      );
    });
  }

  const rm = program
    .command('rm <ids...>')
    .description("remove agents' containers (working directories are kept unless --data)")
    .addOption(targetFileOption())
    .addOption(projectOption())
    .addOption(engineOption())
    .addOption(outputOption())
    .option('--data', "also delete the agents' working directories (never through a symlink)")
    .option(
      '--wait <seconds>',
      'wait this long for another run holding the project lock',
      nonNegativeInt('--wait'),
      0,
    );
  timeoutOption(rm).action(async (ids: string[], flags: Flags) => {
    const { project, desired, engine } = await resolveTarget(flags);
    const results = await removeAgents(ids, {
      project,
      desired,
      engine,
      stopTimeoutSeconds: flags.timeout,
      removeData: flags.data,
      lockWaitMs: (flags.wait ?? 0) * 1000,
    });
    report(results, flags.output, 'removed', (r: RemoveResult) =>
      r.removedData
        ? `, deleted ${r.removedData} (${humanBytes(r.freedBytes ?? 0)})`
        : flags.data
          ? ''
          : ' (working directory kept; --data deletes it)',
    );
  });
}

function report<R extends LifecycleResult>(
  results: R[],
  output: OutputFormat,
  done: string,
  more: (r: R) => string = () => '',
): void {
  if (output === 'json') printJson(lifecycleToJson(results, done === 'removed'));
  for (const r of results) {
    if (!r.ok) process.stderr.write(`agentctl: ${r.agent} (${r.project}): ${r.error}\n`);
    if (r.warning) process.stderr.write(`agentctl: warning: ${r.agent} (${r.project}): ${r.warning}\n`);
    else if (output === 'text')
      process.stdout.write(`${done} ${r.agent} (${r.project}/${r.container})${more(r)}\n`);
  }
  if (results.some((r) => !r.ok)) process.exitCode = EXIT.failure;
}
