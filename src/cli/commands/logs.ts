import type { Command } from 'commander';
import { once } from 'node:events';
import { EXIT } from '../../errors.js';
import { unreachableText } from '../../fleet/open-engines.js';
import type { LogNotice } from '../../ops/agent-output.js';
import type { AgentsFile } from '../../ops/locate-agent.js';
import { getLogs } from '../../ops/logs.js';
import { getManyLogs, type LogAgent, type LogLine, type ManyLogsOptions } from '../../ops/multi-logs.js';
import {
  logAgentsEventToJson,
  logLineToJson,
  logNoticeToJson,
  logsToJson,
} from '../../render/json-results.js';
import { useColor } from '../../render/color.js';
import type { UnreachableEngine } from '../../types.js';
import { logLineFormatter } from '../../render/log-prefix.js';
import { nonNegativeInt, outputOption, printJson, timeFlag, type OutputFormat } from '../io.js';
import { exitQuietlyOnClosedPipe } from '../stdio.js';
import { engineOption, projectOption, resolveTarget, targetFileOption, type TargetFlags } from '../target.js';

interface Flags extends TargetFlags {
  follow?: boolean;
  tail?: number;
  since?: string;
  until?: string;
  timestamps?: boolean;
  prefix: boolean;
  output: OutputFormat;
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
    .option(
      '--since <time>',
      'only output since then: 10m, 1h30m, 2024-05-01T10:00:00Z or unix seconds',
      timeFlag('--since'),
    )
    .option(
      '--until <time>',
      'only output before then, in the same forms as --since (10m: ten minutes ago)',
      timeFlag('--until'),
    )
    .option('-t, --timestamps', 'prefix each line with its time (with -o json every line has its time)')
    .option('--no-prefix', 'with several agents: no `agent |` prefix on the lines (text output)')
    .addOption(targetFileOption(false))
    .addOption(projectOption())
    .addOption(engineOption())
    .addOption(outputOption())
    .action(async (ids: string[], flags: Flags) => {
      const { project, desired, engine } = await resolveTarget(flags);
      exitQuietlyOnClosedPipe();
      const stop = new AbortController();
      // Ctrl-C ends a followed stream: that is the normal way out, exit 0 like docker logs -f.
      process.once('SIGINT', () => stop.abort());
      const common = {
        project,
        desired,
        engine,
        follow: flags.follow,
        tail: flags.tail,
        since: flags.since,
        until: flags.until,
        signal: stop.signal,
      };
      // On stderr, so the agent's output on stdout stays exactly its own.
      const onNotice = (notice: LogNotice) => process.stderr.write(`agentctl: ${notice.message}\n`);
      if (flags.output === 'json') {
        await (flags.follow ? followJson : printJsonLogs)(ids, common);
        return;
      }
      // One agent: its output exactly as it wrote it, as docker logs gives it.
      if (ids.length === 1) {
        await getLogs(ids[0] as string, {
          ...common,
          onNotice,
          timestamps: flags.timestamps,
          stdout: process.stdout,
          stderr: process.stderr,
        });
        return;
      }
      let format: ((line: LogLine) => string) | undefined;
      const color = { stdout: useColor(process.stdout), stderr: useColor(process.stderr) };
      await getManyLogs(ids, {
        ...common,
        onNotice,
        onAgents: (agents, unreachable) => {
          reportUnreachable(unreachable, desired);
          format = logLineFormatter(
            agents.map((a) => a.agent),
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

type JsonLogsOptions = Omit<ManyLogsOptions, 'onLine' | 'onAgents' | 'onNotice'>;

/**
 * Engines of the file whose agents could not be read: each named on stderr, and exit 1 whatever else
 * is shown (as ps does), the other engines' agents still read.
 */
function reportUnreachable(unreachable: readonly UnreachableEngine[], desired: AgentsFile | undefined): void {
  if (unreachable.length > 0) process.exitCode = EXIT.failure;
  const hosts = new Map((desired?.engines ?? []).map((e) => [e.name, e.host]));
  for (const u of unreachable) process.stderr.write(`agentctl: ${unreachableText(u, hosts.get(u.engine))}\n`);
}

/** Without -f: one document (schemas/output/logs.json), printed once every line is in. */
async function printJsonLogs(ids: string[], opts: JsonLogsOptions): Promise<void> {
  let agents: LogAgent[] = [];
  let missed: UnreachableEngine[] = [];
  const lines: LogLine[] = [];
  await getManyLogs(ids, {
    ...opts,
    onAgents: (found, unreachable) => {
      reportUnreachable(unreachable, opts.desired);
      [agents, missed] = [found, unreachable];
    },
    onLine: (line) => void lines.push(line),
  });
  printJson(logsToJson(agents, lines, missed));
}

/** With -f: JSON Lines, the agents first, then each line and notice as it comes. */
async function followJson(ids: string[], opts: JsonLogsOptions): Promise<void> {
  const print = async (value: unknown) => {
    if (!process.stdout.write(`${JSON.stringify(value)}\n`)) await once(process.stdout, 'drain');
  };
  await getManyLogs(ids, {
    ...opts,
    onAgents: (agents, unreachable) => {
      reportUnreachable(unreachable, opts.desired);
      void print(logAgentsEventToJson(agents, unreachable, new Date()));
    },
    onLine: (line) => print(logLineToJson(line)),
    onNotice: (notice) => void print(logNoticeToJson(notice, new Date())),
  });
}
