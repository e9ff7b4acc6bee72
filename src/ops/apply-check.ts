/**
 * What apply will do before its plan, and what would stop it, found without changing anything: the
 * images it builds first, the problems it refuses the run for (preflight, the mass-removal and
 * second-file guards), and the warnings it prints. diff shows these, so that a CI job learns from a diff
 * that the apply would fail. Read-only: it looks at the engine and the filesystem, like preflight.
 */
import path from 'node:path';
import type { DockerPort } from '../docker/port.js';
import type { PlannedBuild } from '../reconcile/builds.js';
import { diskPressure, type FreeSpaceMinimum, freeSpaceMinimum, shortText } from '../reconcile/free-space.js';
import { foreignProblems, massPruneProblem, type RunProblem } from '../reconcile/guards.js';
import { type BridgePorts, hostLimits, hostLimitWarnings } from '../reconcile/host-limits.js';
import { preflightProblems } from '../reconcile/preflight.js';
import { WORKDIRS } from '../reconcile/workdir.js';
import type { AgentSpec, DesiredState, ObservedState, Plan } from '../types.js';

export interface ApplyCheck {
  /** The images apply builds before it plans, sorted by tag. */
  builds: PlannedBuild[];
  /** What apply would refuse the run for (any: it changes nothing). Name conflicts are in the plan. */
  problems: RunProblem[];
  /** What apply would warn about and go on (host-wide limits, a full disk on a run creating nothing). */
  warnings: string[];
}

export interface ApplyCheckOptions {
  builds: PlannedBuild[];
  targeted?: ReadonlySet<string>;
  minFree?: FreeSpaceMinimum;
  allowMassPrune?: boolean;
  allowForeignPrune?: boolean;
  allowForeignChange?: boolean;
}

/** apply's refusals and warnings for `p`, with the planned builds counted as present. */
export async function checkApply(
  desired: DesiredState,
  observed: ObservedState,
  p: Plan,
  port: DockerPort,
  opts: ApplyCheckOptions,
): Promise<ApplyCheck> {
  const problems: RunProblem[] = foreignProblems(desired, p, opts);
  const mass = opts.allowMassPrune ? undefined : massPruneProblem(desired, p, observed, opts.targeted);
  if (mass) problems.push(mass);
  // Conflicts are preflight problems too, but the plan shows them already.
  const checked: Plan = { ...p, conflicts: [] };
  if (checked.actions.length > 0)
    problems.push(
      ...(await preflightProblems(desired, observed, checked, port, await port.info(), {
        willBuild: new Set(opts.builds.map((b) => b.image)),
        minFree: opts.minFree,
      })),
    );
  return {
    builds: [...opts.builds].sort((a, b) => a.image.localeCompare(b.image)),
    problems,
    warnings: await applyWarnings(desired, p, opts.minFree, { hostLimits: true, port }),
  };
}

/**
 * The warnings apply prints before it changes anything. A run that creates no container needs no space,
 * so it is not refused for a full disk (a stop, a removal or a no-op must go through), but agents on a full
 * disk fail to write /mnt: worth saying (a run that creates containers is refused by preflight instead).
 * With `hostLimits`: the host-wide limits the agents about to start would run into.
 */
export async function applyWarnings(
  desired: DesiredState,
  p: Plan,
  minFree: FreeSpaceMinimum | undefined,
  opts: { hostLimits: boolean; port: DockerPort },
): Promise<string[]> {
  const out: string[] = [];
  if (!p.actions.some((a) => a.kind === 'create' || a.kind === 'recreate')) {
    const min = minFree ?? freeSpaceMinimum();
    // An unreadable runtime directory is preflight's to report, when it matters: here it is only a warning.
    const disk = await diskPressure(path.join(desired.runtimeDir, WORKDIRS), min).catch(() => undefined);
    const short = disk && shortText(disk, min);
    if (short)
      out.push(
        `runtime directory: ${short}; this run creates nothing, but agents writing /mnt there may fail (free some, or lower the minimum)`,
      );
  }
  if (opts.hostLimits) {
    const starting = p.actions.flatMap((a) =>
      (a.kind === 'create' || a.kind === 'recreate') && a.spec.state === 'running' ? [a.spec] : [],
    );
    if (starting.length > 0) {
      const [limits, bridges] = await Promise.all([hostLimits(), bridgesOf(starting, opts.port)]);
      out.push(...hostLimitWarnings(limits, starting, desired.agents, bridges));
    }
  }
  return out;
}

/**
 * The bridge networks the starting agents join, with their ports now, as the engine reports them. A
 * network it cannot tell about (missing: preflight's to report) is left out.
 */
async function bridgesOf(starting: readonly AgentSpec[], port: DockerPort): Promise<BridgePorts[]> {
  const names = [...new Set(starting.map((a) => a.network))].filter(
    (n) => n !== 'none' && n !== 'host' && !n.startsWith('container:'),
  );
  const infos = await Promise.all(names.sort().map((n) => port.inspectNetwork(n).catch(() => undefined)));
  return infos.flatMap((n, i) =>
    n?.bridge !== undefined
      ? [{ network: names[i] ?? n.name, bridge: n.bridge, ports: n.endpoints ?? 0 }]
      : [],
  );
}
