import type { Command } from 'commander';
import { once } from 'node:events';
import { AgentctlError } from '../../errors.js';
import type { LogNotice } from '../../ops/agent-output.js';
import { getLogs } from '../../ops/logs.js';
import { getManyLogs, type LogLine } from '../../ops/multi-logs.js';
import { useColor } from '../../render/color.js';
import { logLineFormatter } from '../../render/log-prefix.js';
import { nonNegativeInt } from '../io.js';
import { exitQuietlyOnClosedPipe } from '../stdio.js';
import { projectOption, resolveTarget, targetFileOption, type TargetFlags } from '../target.js';

interface Flags extends TargetFlags {
  follow?: boolean;
  tail?: number;
  since?: string;
  until?: string;
  timestamps?: boolean;
  prefix: boolean;
}

export function registerLogs(program: Command): void {
  program
    .command('logs [ids...]')
    .description(
      "agents' output (stdout and stderr kept apart), also of stopped agents; several ids, or none (every agent of the project), prefix each line with its agent",
    )
    .option(
      '-f, --follow',
      'keep streaming new output, on into the new container when apply recreates an agent',
    )
    .option('-n, --tail <lines>', 'only the last N lines (of each agent)', nonNegativeInt('--tail'))
    .option('--since <time>', 'only output since then: 10m, 1h30m, 2024-05-01T10:00:00Z or unix seconds')
    .option('--until <time>', 'only output before then, in the same forms as --since (10m: ten minutes ago)')
    .option('-t, --timestamps', 'prefix each line with its time')
    .option('--no-prefix', 'with several agents: no `agent |` prefix on the lines')
    .addOption(targetFileOption(false))
    .addOption(projectOption())
    .action(async (ids: string[], flags: Flags) => {
      const { project, desired } = await resolveTarget(flags);
      exitQuietlyOnClosedPipe();
      const stop = new AbortController();
      // Ctrl-C ends a followed stream: that is the normal way out, exit 0 like docker logs -f.
      process.once('SIGINT', () => stop.abort());
      const common = {
        project,
        follow: flags.follow,
        tail: flags.tail,
        since: flags.since,
        until: flags.until,
        signal: stop.signal,
        // On stderr, so the agent's output on stdout stays exactly its own.
        onNotice: (notice: LogNotice) => process.stderr.write(`agentctl: ${notice.message}\n`),
      };
      // One agent: its output exactly as it wrote it, as docker logs gives it.
      if (ids.length === 1) {
        await getLogs(ids[0] as string, {
          ...common,
          desired,
          timestamps: flags.timestamps,
          stdout: process.stdout,
          stderr: process.stderr,
        });
        return;
      }
      // Several agents are read from one engine; a file's agents may sit on several: not there yet.
      if (desired?.engines) {
        throw new AgentctlError(
          'usage',
          `logs of several agents is not supported for a file with engines: (${desired.file}) yet; name one agent`,
        );
      }
      let format: ((line: LogLine) => string) | undefined;
      const color = { stdout: useColor(process.stdout), stderr: useColor(process.stderr) };
      await getManyLogs(ids, {
        ...common,
        onAgents: (agents) => {
          format = logLineFormatter(
            agents,
            { prefix: flags.prefix, timestamps: flags.timestamps ?? false },
            (s) => color[s],
          );
        },
        onLine: async (line) => {
          const out = line.stream === 'stdout' ? process.stdout : process.stderr;
          if (!out.write((format as (l: LogLine) => string)(line))) await once(out, 'drain');
        },
      });
    });
}
