/**
 * down of a file with engines: every engine's containers of the project are stopped and removed, the
 * engines in parallel; with `removeData`, each agent's working directory is deleted on its engine's
 * host. The in-use check asks every engine of the file on that same machine (fleet/same-host.ts): a
 * container of any of them can mount the directory. Engines on one machine with one runtimeDir hold the
 * same directories: each is looked at once.
 *
 * An engine that cannot be reached is reported; the others are still taken down. Its agents' data is
 * never deleted (nothing is known of their containers), and neither is any directory on a machine where
 * one of the file's engines could not be asked whether it mounts it.
 */
import { ID_PATTERN } from '../config/rules.js';
import type { OpenEngine } from '../docker/engines.js';
import type { ContainerSummary } from '../docker/port.js';
import { removeEgressNetworks } from '../egress/execute.js';
import { AgentctlError, toAgentctlError } from '../errors.js';
import { engineOf, enginesOf } from '../fleet/engines-of.js';
import { openFileEngines, unreachableEngine } from '../fleet/open-engines.js';
import { engineMachines } from '../fleet/engine-machines.js';
import { LABEL } from '../labels.js';
import { acquireLock } from '../lock.js';
import { assertNoSymlinks, workDirOf } from '../reconcile/workdir.js';
import { type DesiredState, LOCAL_ENGINE, type UnreachableEngine } from '../types.js';
import { mapLimit } from '../util/concurrency.js';
import { naturalCompare } from '../util/natural-sort.js';
import { portOf } from './context.js';
import type { DownOptions, DownResult } from './down.js';
import { enginesMountSnapshot, inUseReason, unansweredReason, usersOf } from './workdir-in-use.js';

export async function downFleet(desired: DesiredState, opts: DownOptions = {}): Promise<DownResult> {
  const { open, failed } = await openFileEngines(desired, portOf(opts));
  const unreachable: UnreachableEngine[] = failed.map((f) =>
    unreachableEngine(desired, f.spec.name, f.message),
  );
  const release = opts.dryRun
    ? async () => undefined
    : await acquireLock(desired.project, { waitMs: opts.lockWaitMs });
  try {
    // What each engine holds; one that does not answer is reported, the others go on.
    const listed = (
      await Promise.all(
        open.map(async (e) => {
          try {
            return { e, containers: await e.port.listContainers({ [LABEL.project]: desired.project }) };
          } catch (err) {
            unreachable.push(unreachableEngine(desired, e.name, toAgentctlError(err).message));
            return undefined;
          }
        }),
      )
    ).filter((x): x is { e: OpenEngine; containers: ContainerSummary[] } => x !== undefined);
    unreachable.sort((a, b) => naturalCompare(a.engine, b.engine));

    if (!opts.dryRun) {
      // Every removal on every engine settles before anything is reported or any data deleted.
      const failures = (
        await Promise.all(
          listed.map(({ e, containers }) =>
            mapLimit(containers, opts.parallel ?? 4, async (c) => {
              try {
                await e.port.stopContainer(c.id, opts.stopTimeoutSeconds ?? 10);
                await e.port.removeContainer(c.id);
                return undefined;
              } catch (err) {
                return `  ${c.name} on engine ${e.name}: ${toAgentctlError(err).message}`;
              }
            }),
          ),
        )
      )
        .flat()
        .filter((f): f is string => f !== undefined);
      if (failures.length > 0) {
        const total = listed.reduce((n, l) => n + l.containers.length, 0);
        const data = opts.removeData ? '; no working directory was deleted' : '';
        throw new AgentctlError(
          'engine',
          `${failures.length} of ${total} container(s) of project "${desired.project}" could not be removed${data}`,
          { details: failures.sort() },
        );
      }
      // The egress gateway lives on the local engine only (config refuses egress elsewhere).
      const local = listed.find((l) => l.e.name === LOCAL_ENGINE);
      if (local) await removeEgressNetworks(local.e.port, desired.project);
    }

    const removed = listed
      .flatMap(({ e, containers }) =>
        containers.map((c) => ({ agent: c.labels[LABEL.agent] ?? '', container: c.name, engine: e.name })),
      )
      .sort((a, b) => naturalCompare(a.engine, b.engine) || naturalCompare(a.container, b.container));
    const result: DownResult = { removed, removedData: [], keptData: [], unreachable };
    if (opts.removeData) await removeData(desired, listed, unreachable, opts.dryRun === true, result);
    return result;
  } finally {
    await release();
  }
}

async function removeData(
  desired: DesiredState,
  listed: { e: OpenEngine; containers: ContainerSummary[] }[],
  unreachable: UnreachableEngine[],
  dryRun: boolean,
  result: DownResult,
): Promise<void> {
  const specs = new Map(enginesOf(desired).map((s) => [s.name, s]));
  const down = new Map(unreachable.map((u) => [u.engine, u]));
  // Its agents' data stays: their containers could not even be looked at.
  for (const u of unreachable) {
    const spec = specs.get(u.engine);
    for (const id of u.agents)
      if (spec)
        result.keptData.push({
          path: workDirOf(spec.runtimeDir, id),
          engine: u.engine,
          reason: `engine ${u.engine} could not be reached; its agents' data is not deleted`,
        });
  }
  // The machines, and which of the file's engines are on each.
  const machineOfEngine = await engineMachines(
    [...specs.values()].map((s) => ({
      name: s.name,
      spec: s,
      port: listed.find((l) => l.e.name === s.name)?.e.port,
    })),
  );
  const seenDirs = new Set<string>();
  for (const { e, containers } of [...listed].sort((a, b) => naturalCompare(a.e.name, b.e.name))) {
    const machine = machineOfEngine.get(e.name) ?? e.name;
    const siblings = [...machineOfEngine].filter(([, m]) => m === machine).map(([n]) => n);
    // The file's agents on this engine, and whatever we took off it (a stray copy, an undeclared agent).
    const ids = new Set([
      ...desired.agents.filter((a) => engineOf(a) === e.name).map((a) => a.id),
      ...containers.map((c) => c.labels[LABEL.agent] ?? ''),
    ]);
    const dirs: string[] = [];
    for (const id of [...ids].sort()) {
      if (!ID_PATTERN.test(id)) continue; // a label is untrusted input: only ids that stay in runtimeDir
      const dir = workDirOf(e.spec.runtimeDir, id);
      const key = `${machine}\0${dir}`;
      if (seenDirs.has(key)) continue; // the same directory, seen through another engine of that machine
      seenDirs.add(key);
      await assertNoSymlinks(e.spec.runtimeDir, dir, e.host);
      if (await e.host.lstat(dir)) dirs.push(dir);
    }
    if (dirs.length === 0) continue;
    // Taken after our containers are gone (in a dry run: leaving ours out), on every engine of this host.
    const peers = listed.filter((l) => siblings.includes(l.e.name));
    const unreached = siblings.filter((n) => down.has(n));
    const asked = unreached.length > 0 ? undefined : await enginesMountSnapshot(peers.map((l) => l.e));
    const blind = [...unreached, ...(asked?.unanswered.map((u) => u.name) ?? [])];
    if (!asked || blind.length > 0) {
      for (const dir of dirs)
        result.keptData.push({
          path: dir,
          engine: e.name,
          reason: unansweredReason(blind, 'this directory'),
        });
      continue;
    }
    const { snapshot } = asked;
    const ours = new Set(peers.flatMap((l) => l.containers.map((c) => `${c.name} on engine ${l.e.name}`)));
    const others = dryRun
      ? { ...snapshot, mounts: snapshot.mounts.filter((m) => !ours.has(m.container)) }
      : snapshot;
    for (const dir of dirs) {
      const users = await usersOf(others, dir);
      if (users.length > 0) {
        result.keptData.push({ path: dir, engine: e.name, reason: inUseReason(users) });
        continue;
      }
      if (!dryRun) await e.host.removeTree(dir);
      result.removedData.push(dir);
      (result.removedDataOn ??= []).push({ engine: e.name, path: dir });
    }
  }
}
