import { Argument, type Command } from 'commander';
import {
  COMPLETION_SHELLS,
  type CompletionCommand,
  type CompletionShell,
  completionScript,
} from '../../render/completion.js';

/** Argument names that are agent ids: those commands complete the project's agents. */
const AGENT_ARGS = new Set(['id', 'ids', 'agent']);

function describe(cmd: Command): CompletionCommand {
  const flags = cmd.options
    .flatMap((o) => [o.long, o.short])
    .filter((f): f is string => f !== undefined)
    .concat('--help')
    .sort();
  return {
    name: cmd.name(),
    description: cmd.description(),
    flags: [...new Set(flags)],
    takesAgent: AGENT_ARGS.has(cmd.registeredArguments[0]?.name() ?? ''),
    subcommands: cmd.commands.filter((s) => s.name() !== 'help').map(describe),
  };
}

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (commands, flags, and agent ids of ./agents.yaml)')
    .addArgument(new Argument('<shell>', 'the shell to complete for').choices(COMPLETION_SHELLS))
    .action((shell: CompletionShell) => {
      const commands = program.commands
        .filter((c) => c.name() !== 'help')
        .map(describe)
        .sort((a, b) => a.name.localeCompare(b.name));
      process.stdout.write(completionScript(shell, commands));
    });
}
