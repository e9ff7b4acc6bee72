import type { Command } from 'commander';
import { runtimeDirProblems } from '../../reconcile/preflight.js';
import { AgentctlError } from '../../errors.js';
import { positioned } from '../../render/json.js';
import { type SecretProblem, unresolvedSecrets } from '../../secrets/resolve.js';
import { localHostNames } from '../../docker/engine-address.js';
import { localAddress } from '../../docker/engines.js';
import { engineOf, enginesOf } from '../../fleet/engines-of.js';
import { type DesiredState, LOCAL_ENGINE } from '../../types.js';
import { fileOption, loadDesired, outputOption, printJson, type OutputFormat } from '../io.js';

interface SecretRow {
  agent: string;
  env: string;
  ref: string;
  resolved: boolean;
  /** Why it cannot be resolved (file:line:col: ...); null when it can. */
  problem: string | null;
}

function secretRows(desired: DesiredState, unresolved: readonly SecretProblem[]): SecretRow[] {
  const problems = new Map(unresolved.map((u) => [u.source.ref, u.message]));
  return (desired.secrets ?? []).map((s) => {
    const problem = problems.get(s.ref);
    return {
      agent: s.agentId,
      env: s.key,
      ref: s.ref,
      resolved: problem === undefined,
      problem: problem ?? null,
    };
  });
}

function secretSummary(desired: DesiredState, unresolved: readonly SecretProblem[]): string {
  const refs = new Set((desired.secrets ?? []).map((s) => s.ref));
  if (refs.size === 0) return '';
  return `, ${refs.size} secret reference(s)${unresolved.length > 0 ? `, ${new Set(unresolved.map((u) => u.source.ref)).size} unresolved` : ''}`;
}

/**
 * The working directories validate can check without an engine: those on this machine's disk, each
 * engine's agents under that engine's runtimeDir. An engine on another machine has its directories
 * checked by apply's preflight, through that engine (they are paths on its host, not here).
 */
async function workDirsOnThisHost(desired: DesiredState): Promise<string[]> {
  const names = localHostNames();
  const problems = await Promise.all(
    enginesOf(desired).map((e) => {
      const here = e.name === LOCAL_ENGINE || (e.host !== undefined && !e.tls && localAddress(e.host, names));
      const specs = desired.agents.filter((a) => engineOf(a) === e.name);
      return here && specs.length > 0 ? runtimeDirProblems(desired, specs, e.runtimeDir) : [];
    }),
  );
  return problems.flat();
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check an agents file without touching Docker')
    .addOption(fileOption())
    .addOption(outputOption())
    .action(async (opts: { file: string; output: OutputFormat }) => {
      const desired = await loadDesired(opts.file, { quietWarnings: opts.output === 'json' });
      const problems = await workDirsOnThisHost(desired);
      if (problems.length > 0) {
        throw new AgentctlError('config', problems[0] ?? '', { details: problems.slice(1) });
      }
      // The file is valid without the secrets' values (CI rarely has them); what apply would refuse is
      // reported, never a value.
      const unresolved = await unresolvedSecrets(desired);
      if (opts.output === 'json') {
        printJson({
          valid: true,
          file: desired.file,
          project: desired.project,
          agents: desired.agents.map((a) => a.id),
          warnings: desired.warnings.map(positioned),
          secrets: secretRows(desired, unresolved),
        });
        return;
      }
      for (const u of unresolved) process.stderr.write(`warning: ${u.message} (apply would refuse)\n`);
      process.stdout.write(
        `${desired.file}: valid, project "${desired.project}", ${desired.agents.length} agent(s)${secretSummary(desired, unresolved)}\n`,
      );
    });
}
