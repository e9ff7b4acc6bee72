/** `agentctl shell`: `exec -it AGENT -- bash`, or sh where the image has no bash. */
import type { Command } from 'commander';
import type { DockerPort } from '../../docker/port.js';
import { runInAgent } from '../../ops/exec.js';
import type { ResolvedAgent } from '../../ops/resolve-agent.js';
import { addExecOptions, type ExecFlags, execInAgent } from './exec.js';

export function registerShell(program: Command): void {
  addExecOptions(
    program
      .command('shell')
      .description("an interactive shell in an agent's container (bash, or sh without bash)")
      .argument('<agent>', 'agent id or container name'),
  ).action(async (agent: string, flags: ExecFlags) => {
    // A terminal when we have one; piped input (`echo ls | agentctl shell x`) works without.
    const tty = process.stdin.isTTY === true;
    process.exitCode = await execInAgent(agent, [], { ...flags, interactive: true, tty }, (port, a) =>
      shellOf(port, a, flags),
    );
  });
}

/**
 * Asks the container rather than guessing: a throwaway `bash -c :` that the runtime cannot start means
 * no bash. (Trying bash with our stdin attached could swallow piped input on the way to sh.)
 */
async function shellOf(port: DockerPort, agent: ResolvedAgent, flags: ExecFlags): Promise<string[]> {
  const probe = await runInAgent(
    port,
    agent,
    ['bash', '-c', ':'],
    { user: flags.user, workdir: flags.workdir },
    () => undefined,
  );
  return [probe.started ? 'bash' : 'sh'];
}
