import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { AGENT_FLAGS, agentFieldsOf, agentFlagOption, flagProblem } from '../agent-flags.js';
import { AgentctlError, AgentExistsError } from '../../errors.js';
import { portOf } from '../../ops/context.js';
import { ADHOC_PROJECT, followUntilExit, runAgent, type RunResult } from '../../ops/run.js';
import { runToJson } from '../../render/json-results.js';
import { outputOption, printJson, type OutputFormat } from '../io.js';
import { exitQuietlyOnClosedPipe } from '../stdio.js';
import { execInAgent } from './exec.js';

interface Flags {
  rm?: boolean;
  interactive?: boolean;
  tty?: boolean;
  project?: string;
  file?: string;
  runtimeDir?: string;
  output: OutputFormat;
}

/** What an interactive session's container runs, so it stays up while the session (an exec) lasts. */
const SESSION_HOLDER = ['sleep', 'infinity'];

export function registerRun(program: Command): void {
  const run = program.command('run');
  // The agent fields as flags, from one table (cli/agent-flags.ts), as agents.yaml spells them.
  for (const f of AGENT_FLAGS) run.addOption(agentFlagOption(f));
  run
    .description(
      'launch one ad-hoc agent with the same hardened defaults as agents.yaml (project "adhoc"); with -- CMD, run CMD and wait for it',
    )
    .argument('[id]', 'agent id (default: agent-<random>)')
    .argument('[command...]', 'after --: the command to run (the container command; with -it, the session)')
    .option('--rm', 'remove the container when its command ends (its working directory is kept)')
    .option('-i, --interactive', 'an interactive session in the new agent (with -t: on a terminal)')
    .option('-t, --tty', 'allocate a terminal for the session')
    .option('--project <name>', `project (default "${ADHOC_PROJECT}")`)
    .option('-f, --file <path>', "use this agents file's project, runtime directory and name prefix")
    .option('--runtime-dir <dir>', 'where the working directory goes (default ./evanai_runtime)')
    .addOption(outputOption())
    .action(async (operands: string | undefined, rest: string[], flags: Flags, cmd: Command) => {
      const { id, command } = splitOperands([...(operands === undefined ? [] : [operands]), ...rest], cmd);
      const session = Boolean(flags.interactive || flags.tty);
      if (session && flags.output === 'json') {
        throw new AgentctlError(
          'usage',
          '-o json cannot describe an interactive session: drop -i/-t or -o json',
        );
      }
      const target = await fleetOf(flags);
      const foreground = session || flags.rm || command !== undefined;
      const run = await runAgent({
        id,
        ...target,
        fields: agentFieldsOf(
          flags as unknown as Record<string, unknown>,
          (k) => cmd.getOptionValueSource(k) === 'cli',
        ),
        // A session runs in an exec: the container only has to stay up meanwhile.
        command: session ? SESSION_HOLDER : command,
        // Something that runs once must not be restarted when it ends.
        restart: foreground ? 'no' : undefined,
      }).catch((err: unknown) => {
        throw inFlagTerms(err);
      });
      if (!foreground) {
        if (flags.output === 'json') printJson(runToJson(run));
        else process.stdout.write(`${describe(run)}\n`);
        return;
      }
      // stdout is the command's (or the JSON document's) from here on: our own lines go to stderr.
      if (flags.output === 'text') process.stderr.write(`${describe(run)}\n`);
      exitQuietlyOnClosedPipe();
      if (session) {
        try {
          process.exitCode = await execInAgent(run.agent, command ?? ['sh'], {
            interactive: true,
            tty: Boolean(flags.tty) && process.stdin.isTTY === true,
            project: run.project,
          });
        } finally {
          if (flags.rm) await portOf({}).removeContainer(run.containerId);
        }
        return;
      }
      const interrupt = new AbortController();
      const onSignal = () => interrupt.abort();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        if (flags.output === 'json') {
          // One JSON document: the run, then the command's exit code and output (UTF-8).
          const out = collector();
          const err = collector();
          const exitCode = await followUntilExit(run, {
            stdout: out.stream,
            stderr: err.stream,
            remove: flags.rm,
            signal: interrupt.signal,
          });
          printJson(runToJson(run, { exitCode, stdout: out.text(), stderr: err.text() }));
          process.exitCode = exitCode;
          return;
        }
        process.exitCode = await followUntilExit(run, {
          stdout: process.stdout,
          stderr: process.stderr,
          remove: flags.rm,
          signal: interrupt.signal,
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

/** Operands before `--` are the id; after it, the command (commander does not say where `--` was). */
function splitOperands(operands: string[], cmd: Command): { id?: string; command?: string[] } {
  const argv = process.argv;
  const dashes = argv.indexOf('--', argv.indexOf(cmd.name()));
  const command = dashes === -1 ? undefined : argv.slice(dashes + 1);
  const before = command ? operands.slice(0, operands.length - command.length) : operands;
  if (before.length > 1) {
    throw new AgentctlError(
      'usage',
      `run takes one agent id, got ${before.map((a) => JSON.stringify(a)).join(' ')}; put the command after --`,
    );
  }
  if (command && command.length === 0) throw new AgentctlError('usage', 'nothing after --: name the command');
  return { id: before[0], command };
}

async function fleetOf(
  flags: Flags,
): Promise<{ project?: string; runtimeDir?: string; namePrefix?: string }> {
  if (flags.file === undefined) return { project: flags.project, runtimeDir: flags.runtimeDir };
  const { loadDesired } = await import('../io.js');
  const desired = await loadDesired(flags.file, { quietWarnings: true });
  if (flags.project !== undefined && flags.project !== desired.project) {
    throw new AgentctlError(
      'usage',
      `--project ${flags.project} contradicts ${desired.file} (project "${desired.project}")`,
    );
  }
  process.stderr.write(
    `note: ${desired.file} does not declare this agent; its next apply removes it (unless --no-prune)\n`,
  );
  return {
    project: desired.project,
    runtimeDir: flags.runtimeDir ?? desired.runtimeDir,
    namePrefix: desired.namePrefix,
  };
}

function describe(r: RunResult): string {
  return `agent ${r.agent} created in project "${r.project}" (container ${r.container}), working directory ${r.workDir}`;
}

/** A writable that keeps what it is given, for output reported inside JSON. */
function collector(): { stream: NodeJS.WritableStream; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/**
 * The library's errors in the command line's terms: an existing agent with what to type about it, a bad
 * field as the flag that set it (the library gives its path, ConfigProblem.path).
 */
export function inFlagTerms(err: unknown): unknown {
  if (err instanceof AgentExistsError)
    return new AgentctlError(
      'usage',
      `${err.message}; start it with agentctl start ${err.agent}, or remove it with agentctl rm ${err.agent}`,
    );
  if (!(err instanceof AgentctlError) || err.kind !== 'config' || err.problems.length === 0) return err;
  const [first = err.message, ...rest] = err.problems.map((p) => flagProblem(p) ?? p.message);
  return new AgentctlError('usage', first, { details: rest });
}
