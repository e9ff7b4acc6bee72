import type { Command } from 'commander';
import { getLogs } from '../../ops/logs.js';
import { nonNegativeInt } from '../io.js';
import { exitQuietlyOnClosedPipe } from '../stdio.js';
import { projectOption, resolveTarget, targetFileOption, type TargetFlags } from '../target.js';

interface Flags extends TargetFlags {
  follow?: boolean;
  tail?: number;
  since?: string;
  timestamps?: boolean;
}

export function registerLogs(program: Command): void {
  program
    .command('logs <id>')
    .description("an agent's output (stdout and stderr kept apart); works for stopped agents too")
    .option('-f, --follow', 'keep streaming new output')
    .option('-n, --tail <lines>', 'only the last N lines', nonNegativeInt('--tail'))
    .option('--since <time>', 'only output since then: 10m, 1h30m, 2024-05-01T10:00:00Z or unix seconds')
    .option('-t, --timestamps', 'prefix each line with its time')
    .addOption(targetFileOption(false))
    .addOption(projectOption())
    .action(async (id: string, flags: Flags) => {
      const { project, desired } = await resolveTarget(flags);
      exitQuietlyOnClosedPipe();
      const stop = new AbortController();
      // Ctrl-C ends a followed stream: that is the normal way out, exit 0 like docker logs -f.
      process.once('SIGINT', () => stop.abort());
      await getLogs(id, {
        project,
        desired,
        follow: flags.follow,
        tail: flags.tail,
        since: flags.since,
        timestamps: flags.timestamps,
        stdout: process.stdout,
        stderr: process.stderr,
        signal: stop.signal,
      });
    });
}
