#!/usr/bin/env node
/**
 * agentctl's command line: a thin commander layer. Each command parses flags and calls a library
 * function; the one top-level handler below turns errors into messages and exit codes.
 */
import { Command, CommanderError } from 'commander';
import { AgentctlError, exitCodeFor, toAgentctlError } from '../errors.js';
import { registerApply } from './commands/apply.js';
import { registerDiff } from './commands/diff.js';
import { registerDown } from './commands/down.js';
import { registerPs } from './commands/ps.js';
import { registerValidate } from './commands/validate.js';
import { VERSION } from '../version.js';

function buildProgram(): Command {
  const program = new Command('agentctl')
    .description('Declarative, hardened Docker sandboxes for AI agents')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerValidate(program);
  registerDiff(program);
  registerApply(program);
  registerPs(program);
  registerDown(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed help, the version or the usage error.
      process.exitCode = err.exitCode;
      return;
    }
    const e = err instanceof AgentctlError ? err : toAgentctlError(err);
    const isBug =
      !(err instanceof AgentctlError) && e.kind === 'engine' && !(err as { statusCode?: number })?.statusCode;
    // Config errors are already `file:line:col: message`, one per line, as editors and CI annotate them.
    const prefix = e.kind === 'config' ? '' : 'agentctl: ';
    for (const line of [e.message, ...e.details]) process.stderr.write(`${prefix}${line}\n`);
    if (isBug && process.env.AGENTCTL_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = exitCodeFor(e);
  }
}

await main(process.argv);
