/**
 * run: one ad-hoc agent, with exactly the defaults an agents.yaml entry gets. The flags become agent
 * fields and go through createAgent (the config layer's parseConfig, then reconcile() with prune off),
 * so other agents of the project are never touched.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { DEFAULT_RUNTIME_DIR } from '../config/defaults.js';
import type { RawAgent } from '../config/raw.js';
import { ID_PATTERN, invalidIdMessage } from '../config/rules.js';
import { AgentctlError } from '../errors.js';
import { workDirOf } from '../reconcile/workdir.js';
import type { RestartPolicy } from '../types.js';
import { type OpContext, portOf } from './context.js';
import { createAgent } from './create-agent.js';
import { getLogs } from './logs.js';
import { resolveAgent } from './resolve-agent.js';

export const ADHOC_PROJECT = 'adhoc';

export interface RunOptions extends OpContext {
  /** Agent id; default `agent-<random>`. */
  id?: string;
  /** Default `adhoc`. */
  project?: string;
  /** Relative to `cwd`; default ./evanai_runtime. */
  runtimeDir?: string;
  namePrefix?: string;
  image?: string;
  /** As in agents.yaml: `4g`, `512m`. */
  memory?: string;
  cpus?: number;
  network?: string;
  /** Any other agent fields, as agents.yaml spells them (`{ pids: 64, user: '1000' }`). */
  fields?: Omit<RawAgent, 'replicas' | 'build' | 'engine'>;
  /** The container's command; default: the image's. */
  command?: string[];
  restart?: RestartPolicy;
  cwd?: string;
  /** How long to wait for another run holding the project's lock (default 60 s: ad-hoc runs queue). */
  lockWaitMs?: number;
}

export interface RunResult {
  agent: string;
  project: string;
  container: string;
  containerId: string;
  workDir: string;
}

/**
 * Creates and starts the agent. An agent with this id already in the project is an error
 * (AgentExistsError; FileManagedAgentError when a file manages it), not replaced, even when two runs race
 * to make it (the check is made under the project's lock).
 */
export async function runAgent(opts: RunOptions = {}): Promise<RunResult> {
  const port = portOf(opts);
  const id = opts.id ?? `agent-${randomBytes(3).toString('hex')}`;
  if (!ID_PATTERN.test(id)) throw new AgentctlError('usage', invalidIdMessage('agent id', id));
  const project = opts.project ?? ADHOC_PROJECT;
  const runtimeDir = path.resolve(opts.cwd ?? process.cwd(), opts.runtimeDir ?? DEFAULT_RUNTIME_DIR);
  const fields: Omit<RawAgent, 'replicas'> = {
    ...opts.fields,
    ...(opts.image !== undefined && { image: opts.image }),
    ...(opts.memory !== undefined && { memory: opts.memory }),
    ...(opts.cpus !== undefined && { cpus: opts.cpus }),
    ...(opts.network !== undefined && { network: opts.network }),
    ...(opts.command !== undefined && { command: opts.command }),
    ...(opts.restart !== undefined && { restart: opts.restart }),
  };
  // createOnly: the check that the agent is new is made under the project's lock, so two runs of the
  // same id cannot both pass it; the second would otherwise replace the first's container. Errors pass
  // as they are: an AgentExistsError or FileManagedAgentError names the agent, a config error its field
  // (ConfigProblem.path); the CLI says what to type (cli/commands/run.ts).
  await createAgent(
    { id, ...fields },
    { project, runtimeDir, namePrefix: opts.namePrefix },
    { port, lockWaitMs: opts.lockWaitMs ?? 60_000, createOnly: true },
  );
  const agent = await resolveAgent(port, id, { project });
  return {
    agent: id,
    project,
    container: agent.name,
    containerId: agent.id,
    workDir: workDirOf(runtimeDir, id),
  };
}

export interface AttachOptions extends OpContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Remove the container once it has stopped (its working directory stays). */
  remove?: boolean;
  /** Aborting stops the container (SIGTERM, then SIGKILL after 10 s); removal still follows. */
  signal?: AbortSignal;
}

/**
 * Streams the agent's output until its container stops, then removes it if asked. Resolves with the
 * command's exit code.
 */
export async function followUntilExit(run: RunResult, opts: AttachOptions): Promise<number> {
  const port = portOf(opts);
  const stop = () => void port.stopContainer(run.containerId, 10).catch(() => undefined);
  opts.signal?.addEventListener('abort', stop, { once: true });
  try {
    // The engine ends a followed log stream when the container stops; the exit code comes from wait.
    const [code] = await Promise.all([
      port.waitContainer(run.containerId),
      getLogs(run.agent, {
        port,
        project: run.project,
        follow: true,
        stdout: opts.stdout,
        stderr: opts.stderr,
      }),
    ]);
    return code;
  } finally {
    opts.signal?.removeEventListener('abort', stop);
    if (opts.remove) await port.removeContainer(run.containerId);
  }
}
