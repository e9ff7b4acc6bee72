/**
 * The library's front door for code that drives agents directly (an LLM tool loop): create an agent,
 * run commands in it, read its logs, stop and remove it. One manager works in one project and keeps one
 * engine connection pool per engine; it remembers which container each agent is (and on which engine)
 * and which shell it has, so a command costs only the exec itself.
 *
 * Attached to a file with `engines:`, each agent is addressed on the engine the file pins it to, found
 * as the CLI's agent commands find it (locate-agent.ts): a stray copy elsewhere is reported, never used.
 */
import path from 'node:path';
import { DEFAULT_NAME_PREFIX, DEFAULT_RUNTIME_DIR } from '../config/defaults.js';
import type { DockerPort } from '../docker/port.js';
import { loadConfig } from '../config/load.js';
import { AgentctlError } from '../errors.js';
import { engineOf, hasOtherEngines } from '../fleet/engines-of.js';
import { openFileEngines } from '../fleet/open-engines.js';
import { type DesiredState, LOCAL_ENGINE } from '../types.js';
import { type OpContext, portOf } from './context.js';
import { createAgent, type CreateAgentOptions } from './create-agent.js';
import { isStaleContainerError } from './exec.js';
import {
  type ExecResult,
  executeInAgent,
  type ExecuteCommandOptions,
  type ShellCache,
} from './execute-command.js';
import { removeAgents, startAgents, stopAgents, type LifecycleResult } from './lifecycle.js';
import { getLogs, type LogsOptions, type LogsResult } from './logs.js';
import { type AgentRow, type ManagedAgentRow, psAll, psReport } from './ps.js';
import { type LocatedAgent, locateAgent } from './locate-agent.js';
import type { ResolvedAgent } from './resolve-agent.js';
import { Session, type SessionOptions } from '../session/session.js';
import { Editor } from '../tools/editor.js';

export interface AgentManagerOptions extends OpContext {
  /** Where agents' working directories live (`<runtimeDir>/agent-working-directory/<id>`), relative
   * to the current directory. Default `./evanai_runtime`. */
  runtimeDir?: string;
  /** The project the manager's agents belong to (default `adhoc`). */
  project?: string;
  /** Container name = prefix + agent id (default `claude-agent-`). */
  namePrefix?: string;
}

export const DEFAULT_ADHOC_PROJECT = 'adhoc';

/** How long createAgent and removeAgent wait for another run (an `apply`) holding the project's lock. */
const LOCK_WAIT_MS = 60_000;

export class AgentManager {
  readonly project: string;
  readonly runtimeDir: string;
  readonly namePrefix: string;
  private readonly port: DockerPort;
  /**
   * Agent id -> its container and the engine it is on, as last resolved. A stale entry is noticed by
   * exec and refreshed.
   */
  private readonly agents = new Map<string, LocatedAgent>();
  private readonly shells: ShellCache = new Map();
  /** Open sessions by agent id and session name. */
  private readonly sessions = new Map<string, Session>();
  /** The agents file this manager was attached to (fromFile), if any. */
  readonly file?: DesiredState;

  constructor(opts: AgentManagerOptions = {}, file?: DesiredState) {
    this.port = portOf(opts);
    this.project = file?.project ?? opts.project ?? DEFAULT_ADHOC_PROJECT;
    this.runtimeDir = file?.runtimeDir ?? path.resolve(opts.runtimeDir ?? DEFAULT_RUNTIME_DIR);
    this.namePrefix = file?.namePrefix ?? opts.namePrefix ?? DEFAULT_NAME_PREFIX;
    this.file = file;
  }

  /**
   * A manager attached to the fleet an agents file declares: its project, runtime directory and name
   * prefix come from the file (validated as `agentctl validate` does; a bad file throws with
   * file:line:col), so executeCommand, sessions, logs and the rest address the file's agents by id, and
   * listAgents() lists what the file declares. It does not apply the file (that stays `apply`'s job):
   * the agents are used as they are. With `engines:`, each agent is used on the engine the file pins it
   * to (listAgents looks at every engine, as ps does); createAgent makes agents on the local engine
   * only, and refuses an id the file puts on another engine. A file naming one engine twice is refused
   * here, before anything is used or created.
   */
  static async fromFile(file: string, opts: OpContext = {}): Promise<AgentManager> {
    const desired = await loadConfig(file);
    if (hasOtherEngines(desired)) await openFileEngines(desired, portOf(opts));
    return new AgentManager(opts, desired);
  }

  /**
   * The agents and their state. Attached to a file: one row per declared agent (`missing` when it has no
   * container), plus the project's egress gateway, as `agentctl ps -f FILE` lists them. Otherwise: every
   * agent of the manager's project found on the engine.
   */
  async listAgents(): Promise<AgentRow[] | ManagedAgentRow[]> {
    if (this.file) return (await psReport(this.file, { port: this.port })).rows;
    return psAll({ port: this.port, project: this.project });
  }

  /**
   * Creates (and starts) the agent with agents.yaml's hardened defaults under the given fields.
   * Idempotent: an agent that already has these settings is left alone; different settings recreate
   * its container (its working directory is kept). A missing image is an error (kind `preflight`).
   * An agent that a file manages (applied from an agents.yaml that still exists) is refused with a
   * FileManagedAgentError naming the file, and left as it is, unless `adopt` takes it over.
   */
  async createAgent(agent: CreateAgentOptions, opts: { adopt?: boolean } = {}): Promise<ResolvedAgent> {
    this.agents.delete(agent.id);
    // Made here on the local engine, an agent the file places elsewhere would be a stray copy of it.
    const declared = this.file?.agents.find((a) => a.id === agent.id);
    if (declared && engineOf(declared) !== LOCAL_ENGINE) {
      throw new AgentctlError(
        'usage',
        `agent ${agent.id}: ${this.file?.file} puts it on engine ${engineOf(declared)}; an AgentManager creates agents on the local engine only (applying the file creates it there)`,
      );
    }
    await createAgent(
      agent,
      { project: this.project, runtimeDir: this.runtimeDir, namePrefix: this.namePrefix },
      { port: this.port, lockWaitMs: LOCK_WAIT_MS, adopt: opts.adopt },
    );
    return this.resolve(agent.id);
  }

  /**
   * Runs `command` with `bash -c` (`sh -c` where the image has no bash) in the agent and returns its
   * exit code and output. Never throws for what the command does (a failure is its exit code);
   * throws AgentctlError when the agent does not exist or is not running, or the engine fails.
   */
  async executeCommand(id: string, command: string, opts: ExecuteCommandOptions = {}): Promise<ExecResult> {
    const cached = this.agents.get(id);
    const agent = cached ?? (await this.resolve(id));
    try {
      return await executeInAgent(agent.port, agent, command, opts, this.shells);
    } catch (err) {
      // The agent's container was recreated or removed since we last looked: look again, once. Safe
      // to retry: these errors come from creating the exec, before anything ran.
      if (!cached || !isStaleContainerError(err)) throw err;
      this.agents.delete(id);
      const fresh = await this.resolve(id);
      if (fresh.id === agent.id) throw err;
      return executeInAgent(fresh.port, fresh, command, opts, this.shells);
    }
  }

  /**
   * A persistent shell in the agent (src/session/session.ts): cwd, variables and functions persist
   * between `run` calls. Sessions are told apart by name (default `default`); asking again for an open
   * one returns it. The shell starts here, so a missing or stopped agent is an error now.
   */
  async openSession(id: string, opts: SessionOptions = {}): Promise<Session> {
    const key = `${id}\0${opts.name ?? 'default'}`;
    const open = this.sessions.get(key);
    if (open) return open;
    // The session's shell runs on the agent's engine: found first, so that the session knows where.
    const { port } = this.agents.get(id) ?? (await this.resolve(id));
    const session = new Session(
      port,
      async (fresh) => {
        if (fresh) this.agents.delete(id);
        const agent = this.agents.get(id) ?? (await this.resolve(id));
        if (agent.port !== port)
          throw new AgentctlError(
            'not-found',
            `agent ${id} is now on engine ${agent.engine}, not the one this session runs on; open a new session`,
          );
        return agent;
      },
      id,
      opts,
      () => {
        if (this.sessions.get(key) === session) this.sessions.delete(key);
      },
    );
    this.sessions.set(key, session);
    try {
      return await session.open();
    } catch (err) {
      await session.close();
      throw err;
    }
  }

  /** The text editor tool's engine for the agent: file access by exec inside it, as its user. */
  editor(id: string, opts: { maxCharacters?: number } = {}): Editor {
    return new Editor(async () => this.agents.get(id) ?? (await this.resolve(id)), opts);
  }

  /** The open sessions, of one agent or of all. */
  openSessions(id?: string): Session[] {
    return [...this.sessions.values()].filter((s) => id === undefined || s.agentId === id);
  }

  /** Closes every open session (their shells, running commands and background jobs end). */
  async close(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.close()));
  }

  /** The agent's output so far (its container's stdout and stderr). */
  getLogs(id: string, opts: Omit<LogsOptions, 'port' | 'project'> = {}): Promise<LogsResult> {
    return getLogs(id, { ...opts, ...this.where() });
  }

  async startAgent(id: string): Promise<void> {
    single(await startAgents([id], this.where()));
  }

  /** Stops the agent: SIGTERM, then SIGKILL after `timeoutSeconds` (default 10). */
  async stopAgent(id: string, opts: { timeoutSeconds?: number } = {}): Promise<void> {
    single(
      await stopAgents([id], {
        ...this.where(),
        stopTimeoutSeconds: opts.timeoutSeconds,
      }),
    );
  }

  /** Removes the agent's container; with `removeData`, its working directory too. */
  async removeAgent(id: string, opts: { removeData?: boolean; timeoutSeconds?: number } = {}): Promise<void> {
    this.agents.delete(id);
    single(
      await removeAgents([id], {
        ...this.where(),
        removeData: opts.removeData,
        stopTimeoutSeconds: opts.timeoutSeconds,
        lockWaitMs: LOCK_WAIT_MS,
      }),
    );
  }

  /**
   * Where an agent is looked up: the manager's project, and with a file that declares engines the
   * engine it pins the agent to (or, for an id it does not declare, whichever engine has it).
   */
  private where(): { port: DockerPort; project: string; desired?: DesiredState } {
    return {
      port: this.port,
      project: this.project,
      ...(hasOtherEngines(this.file) && { desired: this.file }),
    };
  }

  private async resolve(id: string): Promise<LocatedAgent> {
    const agent = await locateAgent(id, this.where());
    this.agents.set(id, agent);
    return agent;
  }
}

function single(results: LifecycleResult[]): void {
  const failed = results.find((r) => !r.ok);
  if (failed) throw new AgentctlError('engine', `${failed.agent}: ${failed.error}`);
}
