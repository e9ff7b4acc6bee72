#!/usr/bin/env node
/**
 * agentctl's command line: a thin commander layer. Each command parses flags and calls a library
 * function; the one top-level handler (program.ts) turns errors into messages and exit codes. The entry
 * point is bin.ts, which sends `exec` and `shell` to exec-main.ts instead, to skip loading the rest.
 */
import type { Command } from 'commander';
import { registerApply } from './commands/apply.js';
import { registerBuild } from './commands/build.js';
import { registerCleanup } from './commands/cleanup.js';
import { registerCompletion } from './commands/completion.js';
import { registerCp } from './commands/cp.js';
import { registerDiff } from './commands/diff.js';
import { registerDown } from './commands/down.js';
import { registerExec } from './commands/exec.js';
import { registerInit } from './commands/init.js';
import { registerInspect } from './commands/inspect.js';
import { registerLifecycle } from './commands/lifecycle.js';
import { registerLogs } from './commands/logs.js';
import { registerMcp } from './commands/mcp.js';
import { registerEgress } from './commands/egress.js';
import { registerPs } from './commands/ps.js';
import { registerRender } from './commands/render.js';
import { registerRun } from './commands/run.js';
import { registerShell } from './commands/shell.js';
import { registerStats } from './commands/stats.js';
import { registerValidate } from './commands/validate.js';
import { addExamples } from './examples.js';
import { createProgram, runCli } from './program.js';

function buildProgram(): Command {
  const program = createProgram();
  registerInit(program);
  registerValidate(program);
  registerDiff(program);
  registerApply(program);
  registerBuild(program);
  registerPs(program);
  registerDown(program);
  registerExec(program);
  registerShell(program);
  registerRun(program);
  registerLogs(program);
  registerEgress(program);
  registerLifecycle(program);
  registerInspect(program);
  registerStats(program);
  registerCp(program);
  registerCleanup(program);
  registerRender(program);
  registerMcp(program);
  registerCompletion(program);
  addExamples(program);
  return program;
}

await runCli(buildProgram(), process.argv);
