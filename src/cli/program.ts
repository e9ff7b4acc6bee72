/**
 * What every agentctl program shares: the commander setup and the one top-level handler that turns
 * errors into messages and exit codes. Used by main.ts (every command) and exec-main.ts (the hot path).
 */
import { Command, CommanderError, Option } from 'commander';
import { setEngineTimeoutSeconds } from '../docker/engine-timeout.js';
import { AgentctlError, exitCodeFor, toAgentctlError } from '../errors.js';
import { errorToJson, jsonText } from '../render/json.js';
import { cliHint } from '../render/hints.js';
import { VERSION } from '../version.js';
import { stopOnClosedPipe } from './stdio.js';

export function createProgram(): Command {
  return (
    new Command('agentctl')
      .description('Declarative, hardened Docker sandboxes for AI agents')
      .version(VERSION)
      .showHelpAfterError('(run with --help for usage)')
      // Program options only before the command: `exec AGENT CMD -x` leaves `-x` to CMD.
      .enablePositionalOptions()
      .exitOverride()
  );
}

/**
 * Every command that reaches the engine takes `--engine-timeout`, applied before its action runs (and so
 * before the engine client is made). Added here, once, rather than by each command.
 */
function addEngineTimeout(program: Command): void {
  for (const cmd of program.commands) {
    // validate, render, init and completion never reach an engine.
    if (['validate', 'render', 'init', 'completion'].includes(cmd.name())) continue;
    cmd.addOption(
      new Option(
        '--engine-timeout <seconds>',
        'deadline of each Docker engine call, 0 = none (default: AGENTCTL_ENGINE_TIMEOUT or 60)',
      ).argParser(engineTimeoutSeconds),
    );
  }
  program.hook('preAction', (_program, action) => {
    const seconds = action.opts<{ engineTimeout?: number }>().engineTimeout;
    if (seconds !== undefined) setEngineTimeoutSeconds(seconds);
  });
}

function engineTimeoutSeconds(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new AgentctlError('usage', `--engine-timeout must be a number of seconds >= 0, got "${v}"`);
  }
  return n;
}

export async function runCli(program: Command, argv: string[]): Promise<void> {
  stopOnClosedPipe();
  addEngineTimeout(program);
  // No command at all: the help, as a request for it (exit 0), not as a usage error.
  if (argv.length <= 2) {
    program.outputHelp();
    return;
  }
  // The command being run, to know whether it was asked for JSON when it fails.
  let running: Command | undefined;
  program.hook('preAction', (_program, action) => {
    running = action;
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed help, the version or the usage error (on stderr). A script that
      // asked for JSON gets the usage error as error.json too: it was never told what went wrong otherwise.
      if (err.exitCode !== 0 && asksForJson(program, argv)) {
        const usage = new AgentctlError('usage', err.message.replace(/^error: /, ''));
        process.stdout.write(`${jsonText(errorToJson(usage))}\n`);
      }
      process.exitCode = err.exitCode;
      return;
    }
    const e = err instanceof AgentctlError ? err : toAgentctlError(err);
    const isBug =
      !(err instanceof AgentctlError) && e.kind === 'engine' && !(err as { statusCode?: number })?.statusCode;
    // Config errors are already `file:line:col: message`, one per line, as editors and CI annotate them.
    const prefix = e.kind === 'config' ? '' : 'agentctl: ';
    // The library says what may be set to go ahead; the flag that sets it is the CLI's to name.
    const hint = cliHint(e.optIn);
    const first = hint ? `${e.message} (${hint})` : e.message;
    for (const line of [first, ...e.details]) process.stderr.write(`${prefix}${line}\n`);
    // A script that asked for JSON gets the failure as JSON too (schemas/output/error.json), on stdout.
    // A flag's value refused while parsing comes before the command runs: the command line says.
    if (running ? running.opts().output === 'json' : asksForJson(program, argv))
      process.stdout.write(`${jsonText(errorToJson(e, first))}\n`);
    if (isBug && process.env.AGENTCTL_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = exitCodeFor(e);
  }
}

/**
 * Whether the command line asks for `-o json`, read from argv itself for failures found while parsing it
 * (before the command's options exist): the command named (`egress log` too) must have `--output`, and
 * only words before `--` count (after it they belong to a command to run, `exec x -- kubectl -o json`).
 */
export function asksForJson(program: Command, argv: readonly string[]): boolean {
  const words = argv.slice(2);
  let cmd = program;
  for (const w of words) {
    const sub = cmd.commands.find((c) => c.name() === w || c.aliases().includes(w));
    if (!sub) break;
    cmd = sub;
  }
  if (!cmd.options.some((o) => o.long === '--output')) return false;
  const end = words.indexOf('--');
  const ours = end === -1 ? words : words.slice(0, end);
  return ours.some(
    (w, i) =>
      w === '-ojson' || w === '--output=json' || ((w === '-o' || w === '--output') && ours[i + 1] === 'json'),
  );
}
