/**
 * Checks that must pass before any change is made, so a predictable failure stops the run before it
 * half-applies. Read-only: it looks at the engine and the filesystem and throws one error listing
 * every problem found.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import type { DockerPort } from '../docker/port.js';
import { AgentctlError, formatAt } from '../errors.js';
import type { AgentSpec, DesiredState, EngineInfo, ObservedState, Plan } from '../types.js';
import { formatBytes, formatCpus } from '../render/units.js';
import { assertNoSymlinks, WORKDIRS } from './workdir.js';

const BUILTIN_NETWORKS = new Set(['bridge', 'host', 'none']);

export async function preflight(
  desired: DesiredState,
  observed: ObservedState,
  p: Plan,
  port: DockerPort,
  engine: EngineInfo,
  /** Images a dry run would build first. */
  willBuild: ReadonlySet<string> = new Set(),
): Promise<void> {
  const problems: string[] = p.conflicts.map((c) => formatAt(desired.positions[c.agentId], c.message));
  const specs = actionSpecs(p);
  const at = (spec: AgentSpec, msg: string) =>
    formatAt(desired.positions[spec.id], `agent ${spec.id}: ${msg}`);

  for (const spec of specs) {
    if (spec.nanoCpus > engine.ncpu * 1e9) {
      problems.push(at(spec, `cpus ${formatCpus(spec.nanoCpus)} exceeds the engine's ${engine.ncpu} CPUs`));
    }
    if (spec.memoryBytes > engine.memTotalBytes) {
      problems.push(
        at(
          spec,
          `memory ${formatBytes(spec.memoryBytes)} exceeds the engine's ${formatBytes(engine.memTotalBytes)}`,
        ),
      );
    }
    if (spec.runtime !== undefined && !engine.runtimes.includes(spec.runtime)) {
      problems.push(
        at(
          spec,
          `runtime "${spec.runtime}" is not configured on the engine (it has: ${engine.runtimes.join(', ')})`,
        ),
      );
    }
  }

  const needContainer = specs.filter((s) =>
    p.actions.some((a) => a.agentId === s.id && (a.kind === 'create' || a.kind === 'recreate')),
  );
  for (const ref of [...new Set(needContainer.map((s) => s.image))].sort()) {
    if (observed.images[ref] || willBuild.has(ref)) continue;
    const users = needContainer.filter((s) => s.image === ref).map((s) => s.id);
    problems.push(
      formatAt(
        desired.positions[users[0] ?? ''],
        `image "${ref}" is not present on the engine (needed by ${users.join(', ')}); declare how to build it (build: { context: ... }), build it yourself (docker build -t ${ref} ...) or docker pull it`,
      ),
    );
  }

  const networks = [...new Set(needContainer.map((s) => s.network))]
    .filter((n) => !BUILTIN_NETWORKS.has(n))
    .sort();
  for (const net of networks) {
    if (!(await port.networkExists(net)))
      problems.push(`network "${net}" does not exist on the engine (docker network create ${net})`);
  }

  if (needContainer.length > 0) problems.push(...(await runtimeDirProblems(desired, needContainer)));

  if (problems.length > 0) {
    throw new AgentctlError('preflight', `preflight failed, nothing was changed: ${problems[0]}`, {
      details: problems.slice(1),
    });
  }
}

/** Specs of agents the plan will create, recreate or update. */
function actionSpecs(p: Plan): AgentSpec[] {
  const out = new Map<string, AgentSpec>();
  for (const a of p.actions) if ('spec' in a) out.set(a.spec.id, a.spec);
  return [...out.values()];
}

/** Symlinks under runtimeDir and an unwritable runtimeDir, checked without creating anything. */
export async function runtimeDirProblems(desired: DesiredState, specs: AgentSpec[]): Promise<string[]> {
  const problems: string[] = [];
  for (const spec of specs) {
    try {
      await assertNoSymlinks(desired.runtimeDir, spec.workDir);
    } catch (err) {
      problems.push(formatAt(desired.positions[spec.id], (err as Error).message));
    }
  }
  const existing = await nearestExisting(path.join(desired.runtimeDir, WORKDIRS));
  const st = await fs.stat(existing);
  if (!st.isDirectory()) {
    problems.push(`runtime directory: ${existing} exists and is not a directory`);
  } else if (
    !(await fs.access(existing, constants.W_OK).then(
      () => true,
      () => false,
    ))
  ) {
    problems.push(`runtime directory: ${existing} is not writable`);
  }
  return problems;
}

async function nearestExisting(p: string): Promise<string> {
  let cur = p;
  for (;;) {
    if (
      await fs.lstat(cur).then(
        () => true,
        () => false,
      )
    )
      return cur;
    const parent = path.dirname(cur);
    if (parent === cur) return cur;
    cur = parent;
  }
}
