/**
 * The executor carries a Plan out and makes no decisions. Agents run in parallel (bounded); one agent's
 * steps run in order, and a failed step skips that agent's remaining steps but never stops the others.
 */
import { randomBytes } from 'node:crypto';
import { createBody } from '../docker/container-config.js';
import type { DockerPort } from '../docker/port.js';
import type { HostFs } from '../docker/host-fs.js';
import { localHostFs } from '../docker/local-host-fs.js';
import { AgentctlError, toAgentctlError } from '../errors.js';
import type { Action, ActionResult, AgentSpec, Plan } from '../types.js';
import { mapLimit } from '../util/concurrency.js';
import type { SecretValues } from '../secrets/values.js';
import { egressAddress } from '../egress/execute.js';
import { ensureWorkDir, giveToAgent, ownershipProblem, OwnerResolver } from './workdir.js';

export type ProgressEvent = { type: 'begin'; action: Action } | { type: 'end'; result: ActionResult };

export interface ExecuteOptions {
  project: string;
  runtimeDir: string;
  /** The filesystem of the engine's host, where working directories are made (default: this host's). */
  host?: HostFs;
  /** The real path of the file being applied: recorded on what is created (see LABEL.file). */
  file?: string;
  /** Agents worked on at once. */
  parallel: number;
  /** Grace period for stopping a container before it is killed. */
  stopTimeoutSeconds: number;
  onProgress?: (e: ProgressEvent) => void;
  /** The values of the specs' secret env variables (see src/secrets). */
  secrets?: SecretValues;
  /**
   * Aborted: start no new action. Actions in flight run to their end (each leaves a state the next run
   * understands: a recreate's replacement is a leftover it removes), the rest are reported `notStarted`.
   */
  signal?: AbortSignal;
}

export async function execute(plan: Plan, port: DockerPort, opts: ExecuteOptions): Promise<ActionResult[]> {
  const owners = new OwnerResolver(port);
  // Finding an image's user may mean reading its /etc/passwd (a throwaway container): start it for every
  // image at once, now, rather than on each first agent's turn.
  for (const a of plan.actions)
    if (a.kind === 'create' || a.kind === 'recreate') void owners.resolve(a.spec).catch(() => undefined);
  const groups = groupByAgent(plan.actions);
  const perGroup = await mapLimit(groups, Math.max(1, opts.parallel), async (steps) => {
    const results: ActionResult[] = [];
    for (const action of steps) {
      if (opts.signal?.aborted) {
        results.push({
          action,
          ok: false,
          error: 'not started: interrupted',
          durationMs: 0,
          notStarted: true,
        });
        continue;
      }
      if (results.some((r) => !r.ok)) {
        results.push({
          action,
          ok: false,
          error: 'skipped: an earlier step for this agent failed',
          durationMs: 0,
        });
        continue;
      }
      opts.onProgress?.({ type: 'begin', action });
      const result = await runOne(action, port, owners, opts);
      opts.onProgress?.({ type: 'end', result });
      results.push(result);
    }
    return results;
  });
  return perGroup.flat();
}

async function runOne(
  action: Action,
  port: DockerPort,
  owners: OwnerResolver,
  opts: ExecuteOptions,
): Promise<ActionResult> {
  const started = performance.now();
  try {
    const containerId = await perform(action, port, owners, opts);
    return { action, ok: true, durationMs: performance.now() - started, containerId };
  } catch (err) {
    return {
      action,
      ok: false,
      error: toAgentctlError(err).message,
      durationMs: performance.now() - started,
    };
  }
}

async function perform(
  action: Action,
  port: DockerPort,
  owners: OwnerResolver,
  opts: ExecuteOptions,
): Promise<string> {
  switch (action.kind) {
    case 'create': {
      await ensureWorkDir(opts.runtimeDir, action.spec, hostOf(opts));
      const user = await owners.resolve(action.spec);
      const problem = await ownershipProblem(action.spec, owners, hostOf(opts));
      if (problem) throw new AgentctlError('unsafe', problem);
      const id = await port.createContainer(
        action.spec.name,
        createBody(
          opts.project,
          action.spec,
          user,
          secretEnvOf(action.spec, opts),
          await addressOf(action.spec, port),
          opts.file,
        ),
      );
      await giveToAgent(action.spec, owners, hostOf(opts));
      if (action.spec.state === 'running') await port.startContainer(id);
      return id;
    }
    case 'unpause':
      await port.unpauseContainer(action.containerId);
      return action.containerId;
    case 'start':
      await port.startContainer(action.containerId);
      return action.containerId;
    case 'stop':
      await port.stopContainer(action.containerId, opts.stopTimeoutSeconds);
      return action.containerId;
    case 'update':
      await port.updateContainer(action.containerId, {
        memoryBytes: action.spec.memoryBytes,
        nanoCpus: action.spec.nanoCpus,
        pids: action.spec.pids,
        restart: action.spec.restart,
      });
      return action.containerId;
    case 'recreate':
      // A broken container runs nothing worth a graceful stop, and asking the engine to stop one may fail.
      return recreate(action.containerId, action.spec, port, owners, opts, !action.broken);
    case 'remove':
      await port.stopContainer(action.containerId, opts.stopTimeoutSeconds);
      await port.removeContainer(action.containerId);
      return action.containerId;
  }
}

/**
 * Replace a container without ever leaving the agent with none because the new one could not be made:
 * create the replacement under a temporary name first, then stop and remove the old one and hand its
 * name over. If we are interrupted in between, the leftover (its name differs from its name label) is
 * removed by the next plan.
 */
async function recreate(
  oldId: string,
  spec: AgentSpec,
  port: DockerPort,
  owners: OwnerResolver,
  opts: ExecuteOptions,
  gracefulStop: boolean,
): Promise<string> {
  await ensureWorkDir(opts.runtimeDir, spec, hostOf(opts));
  const tempName = `${spec.name}-next-${randomBytes(3).toString('hex')}`;
  const newId = await port.createContainer(
    tempName,
    createBody(
      opts.project,
      spec,
      await owners.resolve(spec),
      secretEnvOf(spec, opts),
      await addressOf(spec, port),
      opts.file,
    ),
  );
  // Refuse before the old agent is stopped when its data cannot follow it to a new uid.
  const problem = await ownershipProblem(spec, owners, hostOf(opts));
  if (problem) {
    await port.removeContainer(newId);
    throw new AgentctlError('unsafe', problem);
  }
  if (gracefulStop) await port.stopContainer(oldId, opts.stopTimeoutSeconds);
  // Only now: a file the old agent wrote after its directory was re-owned would keep the old uid.
  await giveToAgent(spec, owners, hostOf(opts));
  await port.removeContainer(oldId);
  await port.renameContainer(newId, spec.name);
  if (spec.state === 'running') await port.startContainer(newId);
  return newId;
}

/** A policy agent's fixed address on the egress network, from the slot the planner gave it. */
async function addressOf(spec: AgentSpec, port: DockerPort): Promise<string | undefined> {
  if (!spec.egress) return undefined;
  if (spec.egressSlot === undefined)
    throw new Error(`agent ${spec.id} has egress rules but no address was planned`);
  return egressAddress(port, spec.network, spec.egressSlot);
}

/** `KEY=value` for the spec's secrets; throws (failing the action) if they were not resolved. */
function secretEnvOf(spec: AgentSpec, opts: ExecuteOptions): string[] {
  const keys = Object.keys(spec.secretEnv ?? {});
  if (keys.length === 0) return [];
  if (!opts.secrets) throw new Error(`the secrets of agent ${spec.id} were not resolved`);
  return opts.secrets.envOf(spec.id, keys);
}

function hostOf(opts: ExecuteOptions): HostFs {
  return opts.host ?? localHostFs;
}

function groupByAgent(actions: Action[]): Action[][] {
  const groups = new Map<string, Action[]>();
  for (const a of actions) groups.set(a.agentId, [...(groups.get(a.agentId) ?? []), a]);
  return [...groups.values()];
}
