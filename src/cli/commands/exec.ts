/**
 * `agentctl exec`: a command in an agent's container, like `docker exec`, plus a timeout that kills it
 * inside the container. This runs thousands of times in an agent's tool loop, so it imports only the
 * exec path: the config layer (YAML, schema) is loaded only for a file (`--file`, or ./agents.yaml).
 */
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { DockerPort } from '../../docker/port.js';
import { collectEnv, parseEnv } from '../env-flags.js';
import { AgentctlError } from '../../errors.js';
import { portOf } from '../../ops/context.js';
import { runInAgent } from '../../ops/exec.js';
import { notRunningError, type ResolvedAgent, resolveAgent } from '../../ops/resolve-agent.js';
import { outputSink } from '../output-sink.js';
import { checkEngine, engineOption, engineWithoutFile } from '../target.js';

export interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  timeout?: number;
  env?: string[];
  workdir?: string;
  user?: string;
  file?: string;
  project?: string;
  engine?: string;
}

export function registerExec(program: Command): void {
  execOptions(program.command('exec'))
    // Options after the command belong to it: `agentctl exec x ls -l`.
    .passThroughOptions()
    .action(async (agent: string, command: string[], flags: ExecFlags) => {
      const { argv, ours } = splitAtDashDash(command);
      const all: ExecFlags = { ...flags, ...ours };
      if (argv.length === 0) throw new AgentctlError('usage', 'exec: name the command to run after --');
      process.exitCode = await execInAgent(agent, argv, all);
    });
}

function execOptions(cmd: Command): Command {
  return addExecOptions(
    cmd
      .description("run a command in an agent's container; its exit code becomes ours (124: timed out)")
      .argument('<agent>', 'agent id or container name')
      .argument('<command...>', 'the command and its arguments (put `--` before it)')
      .option('-i, --interactive', 'pass our stdin to the command')
      .option('-t, --tty', 'allocate a terminal'),
  );
}

/**
 * Passed through, everything after the agent arrives here. With a `--` in it and options before that,
 * those are ours (`agentctl exec x -f agents.yaml -- ls -l`, as docker users write it): parse that with the same
 * option definitions. Without one, it is all the command's.
 */
export function splitAtDashDash(passed: string[]): { argv: string[]; ours: ExecFlags } {
  const at = passed.indexOf('--');
  // A command that merely contains `--` (`sh -c ... -- x`) starts with a word, not an option.
  if (at < 0 || !passed[0]?.startsWith('-')) return { argv: passed, ours: {} };
  const argv = passed.slice(at + 1);
  if (at === 0) return { argv, ours: {} };
  const parser = execOptions(new Command('exec')).exitOverride();
  // The agent is already known: give the parser a placeholder for it and the command.
  parser.parse(['-', ...passed.slice(0, at), '--', '-'], { from: 'user' });
  return { argv, ours: parser.opts<ExecFlags>() };
}

/** The options exec and shell share. */
export function addExecOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--timeout <seconds>',
        'kill the command inside the container after this long (exit 124)',
      ).argParser(positiveSeconds),
    )
    .option(
      '-e, --env <KEY=VALUE>',
      'set an environment variable (repeatable); KEY alone passes ours through',
      collectEnv,
    )
    .option('-w, --workdir <dir>', 'working directory inside the container (default: /mnt)')
    .option('-u, --user <user>', "user name or uid[:gid] (default: the agent's)")
    .option('-f, --file <path>', "look the agent up in this agents file's project")
    .option(
      '--project <name>',
      "look the agent up in this project (default: ./agents.yaml's if present, else every project)",
    )
    .addOption(engineOption());
}

/** Resolves the agent, runs the command streaming its output to ours; resolves to our exit code. */
export async function execInAgent(
  idOrName: string,
  command: string[],
  flags: ExecFlags,
  prepare?: (port: DockerPort, agent: ResolvedAgent) => Promise<string[]>,
): Promise<number> {
  // As docker: `-it` with a pipe for stdin cannot work (no terminal to put in raw mode); it would hang.
  if (flags.tty && flags.interactive && !process.stdin.isTTY) {
    throw new AgentctlError(
      'usage',
      'the input device is not a TTY (drop -t to pipe input into the command)',
    );
  }
  const { port, agent } = await agentOf(idOrName, flags);
  if (agent.state !== 'running') throw notRunningError(agent);
  const cmd = prepare ? await prepare(port, agent) : command;

  const tty = flags.tty ?? false;
  const stdin = process.stdin;
  const raw = tty && flags.interactive && stdin.isTTY;
  if (raw) stdin.setRawMode(true);
  // Ctrl-C without a terminal reaches us, not the command: kill it in the container too (exit 130).
  // With a terminal it is a keystroke the command receives.
  const interrupt = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal?: NodeJS.Signals) => {
    received ??= signal;
    interrupt.abort();
  };
  const sink = outputSink(() => onSignal());
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let onResize: (() => void) | undefined;
  try {
    const outcome = await runInAgent(
      port,
      agent,
      cmd,
      {
        env: parseEnv(flags.env),
        workdir: flags.workdir,
        user: flags.user,
        tty,
        stdin: flags.interactive ? stdin : undefined,
        timeoutMs: flags.timeout !== undefined ? flags.timeout * 1000 : undefined,
        signal: interrupt.signal,
        onStart: (exec) => {
          if (!tty || !process.stdout.isTTY) return;
          const resize = () => void exec.resize(process.stdout.rows, process.stdout.columns).catch(() => {});
          onResize = resize;
          process.stdout.on('resize', resize);
          resize();
        },
      },
      (stream, chunk) => sink.write(stream, chunk),
    );
    // Like a pipe's writer killed by SIGPIPE.
    if (sink.broken) return 128 + 13;
    if (outcome.timedOut)
      process.stderr.write(`agentctl: ${cmd.join(' ')}: ${timeoutReport(flags, outcome)}\n`);
    // 128 + the signal's number, as a shell reports a process the signal ended: SIGTERM 143, SIGINT 130.
    if (outcome.interrupted && received === 'SIGTERM') return 128 + 15;
    return outcome.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    sink.dispose();
    if (onResize) process.stdout.off('resize', onResize);
    if (raw) stdin.setRawMode(false);
    // Stop reading our stdin (the command is done with it), so nothing keeps the process alive.
    if (flags.interactive) {
      stdin.unpipe();
      stdin.destroy();
    }
  }
}

/**
 * What is known after a timeout, and no more: the kill finds the command's processes by the marker in
 * their environment and by descent, so one that left the process tree and cleared its environment
 * cannot be found, and is not claimed to be dead.
 */
function timeoutReport(flags: ExecFlags, outcome: { killed?: boolean }): string {
  const after = `timed out after ${flags.timeout} s`;
  if (outcome.killed === false)
    return `${after}; killing it in the container failed: some of its processes still run`;
  return `${after}; every process found in the container was killed (found by the exec's marker and by descent: a process that detached and cleared its environment is not found)`;
}

/**
 * The agent and the engine it is on. `--project`, or the project `--file` declares, or ./agents.yaml's
 * when it exists (as ps does); only a file loads the config layer, and only a file can place the agent on
 * another engine (its `engines:`), so without one this is the local engine's lookup alone.
 */
async function agentOf(
  idOrName: string,
  flags: ExecFlags,
): Promise<{ port: DockerPort; agent: ResolvedAgent }> {
  if (flags.file !== undefined && flags.project !== undefined)
    throw new AgentctlError('usage', 'give --file or --project, not both');
  const file =
    flags.file ?? (flags.project === undefined && existsSync('agents.yaml') ? 'agents.yaml' : undefined);
  if (file === undefined) {
    if (flags.engine !== undefined) throw engineWithoutFile(flags.engine);
    const port = portOf({});
    return { port, agent: await resolveAgent(port, idOrName, { project: flags.project }) };
  }
  const { loadDesired } = await import('../io.js');
  const desired = await loadDesired(file, { quietWarnings: true });
  if (flags.engine !== undefined) await checkEngine(desired, flags.engine);
  const { locateAgent } = await import('../../ops/locate-agent.js');
  const agent = await locateAgent(idOrName, { project: desired.project, desired, engine: flags.engine });
  return { port: agent.port, agent };
}

function positiveSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new AgentctlError('usage', `--timeout must be a number of seconds > 0, got "${v}"`);
  return n;
}
