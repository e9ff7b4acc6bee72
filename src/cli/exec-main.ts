/**
 * `exec` and `shell` on their own (bin.ts sends them here): an agent's tool loop runs them thousands of
 * times, so they skip loading the other commands, the config layer (YAML, schema) and the planner.
 * The full program (main.ts) registers them too, so `agentctl --help` lists them with the rest.
 */
import { registerExec } from './commands/exec.js';
import { registerShell } from './commands/shell.js';
import { addExamples } from './examples.js';
import { createProgram, runCli } from './program.js';

const program = createProgram();
registerExec(program);
registerShell(program);
addExamples(program);
await runCli(program, process.argv);
