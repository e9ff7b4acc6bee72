/**
 * Carries out one Migration (see types.ts): the agent's data moves with it, in a visible sequence, and
 * nothing is removed before the copy is verified.
 *
 * 1. stop the source container (its files must not change while they are copied);
 * 2. create the agent on the target engine under a temporary name, not started (a run that dies from
 *    here on leaves a leftover the next plan removes, and the move is planned again);
 * 3. copy /mnt through the archive API (source engine -> agentctl -> target engine, streamed);
 * 4. verify: both sides' /mnt archives give the same digest (names, types, sizes, link targets, content);
 * 5. hand the directory to the agent's user, give the container its name, start it;
 * 6. remove the source container. Its working directory stays on the source host (never deleted silently).
 * A failure before 6 removes the target's container, starts the source again if it was running, and
 * leaves every directory in place.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createBody } from '../docker/container-config.js';
import type { OpenEngine } from '../docker/engines.js';
import type { DockerPort } from '../docker/port.js';
import { readTar } from '../docker/tar-reader.js';
import { AgentctlError, toAgentctlError } from '../errors.js';
import { ensureWorkDir, giveToAgent, ownershipProblem, OwnerResolver } from '../reconcile/workdir.js';
import type { SecretValues } from '../secrets/values.js';
import type { Migration, MigrationResult } from '../types.js';
import { enginesMountSnapshot, inUseReason, unansweredReason, usersOf } from '../ops/workdir-in-use.js';
import { engineMachines } from './engine-machines.js';
import { sameHostAs } from './same-host.js';

export interface MigrateOptions {
  project: string;
  stopTimeoutSeconds: number;
  secrets?: SecretValues;
  onStep?: (m: Migration, step: string) => void;
}

export async function migrate(
  m: Migration,
  engines: ReadonlyMap<string, OpenEngine>,
  opts: MigrateOptions,
): Promise<MigrationResult> {
  const started = performance.now();
  const steps: string[] = [];
  const step = (s: string) => {
    steps.push(s);
    opts.onStep?.(m, s);
  };
  const src = engines.get(m.from.engine);
  const dst = engines.get(m.to);
  if (!src || !dst) throw new Error(`migration of ${m.agentId}: engine not open`);
  let targetId: string | undefined;
  let wasRunning = false;
  /** The target is the agent now: the source must not run again. */
  let handedOver = false;
  try {
    if (m.spec.egress)
      throw new AgentctlError('usage', 'moving an agent with egress rules is not supported yet');
    // The copy goes into an empty directory only: data already there (a stray copy's, kept when it was
    // removed) would be mixed with the agent's, and which file is whose could not be told apart again.
    const existing = await dst.host.lstat(m.spec.workDir);
    if (existing && (existing.type !== 'directory' || !(await dst.host.isEmptyDir(m.spec.workDir))))
      throw new AgentctlError(
        'unsafe',
        `its working directory on engine ${dst.name}, ${m.spec.workDir}, already holds data; nothing was moved: move that directory away (or delete it), then migrate again`,
      );
    // Nor into one a container of any engine of that host mounts (the source's own copy aside).
    const all = [...engines.values()];
    const { snapshot, unanswered } = await enginesMountSnapshot(
      sameHostAs(dst, all, await engineMachines(all)),
    );
    if (unanswered.length > 0)
      throw new AgentctlError(
        'engine-unreachable',
        `${unansweredReason(
          unanswered.map((u) => u.name),
          m.spec.workDir,
        )}; nothing was moved`,
        { details: unanswered.map((u) => `  ${u.message}`) },
      );
    const users = (await usersOf(snapshot, m.spec.workDir)).filter(
      (u) => u !== `${m.from.name} on engine ${src.name}`,
    );
    if (users.length > 0)
      throw new AgentctlError(
        'unsafe',
        `its working directory on engine ${dst.name}, ${m.spec.workDir}, is ${inUseReason(users)}; nothing was moved`,
      );
    const before = await src.port.inspectContainer(m.from.containerId);
    if (!before) throw new AgentctlError('not-found', `its container on engine ${src.name} is gone`);
    wasRunning = before.state === 'running' || before.state === 'restarting' || before.state === 'paused';
    await src.port.stopContainer(m.from.containerId, opts.stopTimeoutSeconds);
    step(`stopped ${m.from.name} on engine ${src.name}`);

    const owners = new OwnerResolver(dst.port);
    await ensureWorkDir(dst.spec.runtimeDir, m.spec, dst.host);
    const problem = await ownershipProblem(m.spec, owners, dst.host);
    if (problem) throw new AgentctlError('unsafe', problem);
    const keys = Object.keys(m.spec.secretEnv ?? {});
    if (keys.length > 0 && !opts.secrets)
      throw new Error(`the secrets of agent ${m.agentId} were not resolved`);
    const secretEnv = keys.length > 0 && opts.secrets ? opts.secrets.envOf(m.agentId, keys) : [];
    const tempName = `${m.spec.name}-next-${randomBytes(3).toString('hex')}`;
    targetId = await dst.port.createContainer(
      tempName,
      createBody(opts.project, m.spec, await owners.resolve(m.spec), secretEnv, undefined),
    );
    step(`created ${tempName} on engine ${dst.name} (not started)`);

    const archive = await src.port.getArchive(m.from.containerId, '/mnt/.');
    if (!archive) throw new AgentctlError('not-found', `${m.from.name} on engine ${src.name} has no /mnt`);
    await dst.port.putArchive(targetId, '/mnt', archive.tar);
    const [want, got] = await Promise.all([
      mntDigest(src.port, m.from.containerId),
      mntDigest(dst.port, targetId),
    ]);
    step(`copied /mnt to engine ${dst.name}: ${want.entries} entries, ${want.bytes} bytes`);
    if (want.digest !== got.digest) {
      throw new AgentctlError(
        'engine',
        `the copy on engine ${dst.name} differs from the source (${got.entries} entries, ${got.bytes} bytes against ${want.entries}, ${want.bytes})`,
      );
    }
    step('verified: same names, types, sizes and content on both engines');

    await giveToAgent(m.spec, owners, dst.host);
    await dst.port.renameContainer(targetId, m.spec.name);
    if (m.spec.state === 'running') await dst.port.startContainer(targetId);
    step(`${m.spec.state === 'running' ? 'started' : 'kept stopped'} ${m.spec.name} on engine ${dst.name}`);
    const moved = targetId;
    targetId = undefined; // from here on the target is the agent
    handedOver = true;
    await src.port.removeContainer(m.from.containerId);
    step(
      `removed ${m.from.name} from engine ${src.name}; its data stays on that host${m.from.workDir ? ` in ${m.from.workDir}` : ''}`,
    );
    return { migration: m, ok: true, steps, durationMs: performance.now() - started, containerId: moved };
  } catch (err) {
    const error = toAgentctlError(err).message;
    if (targetId) {
      await dst.port.removeContainer(targetId).catch(() => undefined);
      steps.push(`removed the unfinished copy's container on engine ${dst.name} (its directory is kept)`);
    }
    if (wasRunning && !handedOver) {
      await src.port.startContainer(m.from.containerId).catch(() => undefined);
      steps.push(`started ${m.from.name} on engine ${src.name} again`);
    }
    return { migration: m, ok: false, steps, error, durationMs: performance.now() - started };
  }
}

/** A digest of a container's /mnt as the archive API gives it: every entry's name, type, size, link, content. */
async function mntDigest(
  port: DockerPort,
  id: string,
): Promise<{ digest: string; entries: number; bytes: number }> {
  const archive = await port.getArchive(id, '/mnt/.');
  if (!archive) throw new AgentctlError('not-found', 'no /mnt to verify');
  const lines: string[] = [];
  let bytes = 0;
  for await (const { entry, body } of readTar(archive.tar as AsyncIterable<Buffer>)) {
    const h = createHash('sha256');
    for await (const chunk of body) h.update(chunk);
    bytes += entry.type === 'file' ? entry.size : 0;
    const name = entry.name.replace(/\/$/, '');
    lines.push(`${name}\0${entry.type}\0${entry.size}\0${entry.linkname}\0${h.digest('hex')}`);
  }
  lines.sort();
  return {
    digest: createHash('sha256').update(lines.join('\n')).digest('hex'),
    entries: lines.length,
    bytes,
  };
}
