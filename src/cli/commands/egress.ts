import type { Command } from 'commander';
import { AgentctlError } from '../../errors.js';
import { type EgressDecision, egressLog } from '../../ops/egress-log.js';
import { egressDecisionToJson } from '../../render/json-results.js';
import { outputOption, type OutputFormat } from '../io.js';
import { exitQuietlyOnClosedPipe } from '../stdio.js';
import { resolveTarget } from '../target.js';

interface Flags {
  file: string;
  project?: string;
  follow?: boolean;
  agent?: string;
  output: OutputFormat;
}

export function registerEgress(program: Command): void {
  const egress = program.command('egress').description("the egress gateway of a project's agents");
  egress
    .command('log')
    .description('every egress decision: time, agent, host:port, allowed or denied, and the rule')
    // -f follows, as in `logs`; the file is --file.
    .option('-f, --follow', 'keep printing new decisions')
    .option('--file <path>', "the agents file whose project's gateway to read", 'agents.yaml')
    .option('--project <name>', 'the project (instead of the file)')
    .option('--agent <id>', "only this agent's decisions")
    .addOption(outputOption())
    .action(async (flags: Flags) => {
      const project = flags.project ?? (await resolveTarget({ file: flags.file })).project;
      if (!project) throw new AgentctlError('usage', 'name the project with -f FILE or --project');
      exitQuietlyOnClosedPipe();
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      await egressLog({
        project,
        follow: flags.follow ?? false,
        agent: flags.agent,
        signal: stop.signal,
        onDecision: (d) => {
          process.stdout.write(
            flags.output === 'json'
              ? `${JSON.stringify(egressDecisionToJson(project, d))}\n`
              : `${decisionLine(d)}\n`,
          );
        },
      });
    });
}

export function decisionLine(d: EgressDecision): string {
  const verdict = d.decision === 'allowed' ? 'ALLOWED' : 'DENIED ';
  const detail = d.decision === 'allowed' ? `-> ${d.address ?? ''}` : `(${d.reason ?? ''})`;
  return `${d.time}  ${verdict}  ${d.agent}  ${d.method} ${d.host}:${d.port}  ${d.rule}  ${detail}`;
}
