/**
 * Which agents an MCP server may touch: the operator's choice (`--agent`, repeated, and/or
 * `--project`), fixed when the server starts. A model can only pick among them: every tool call
 * names its agent from this set (or gets the only one), and anything else is refused.
 */
import type { DockerPort } from '../docker/port.js';
import { AgentctlError } from '../errors.js';
import { enginesOf, engineOf, hasOtherEngines } from '../fleet/engines-of.js';
import { openFileEngines } from '../fleet/open-engines.js';
import { LABEL } from '../labels.js';
import { AgentManager } from '../ops/agent-manager.js';
import { type AgentsFile, engineNamed, fileEngine, locateAgent } from '../ops/locate-agent.js';
import { LOCAL_ENGINE } from '../types.js';
import type { Editor } from '../tools/editor.js';
import type { Session } from '../session/session.js';

export interface BindingOptions {
  port: DockerPort;
  /** Agents by id; with `project`, looked up in it, otherwise in every project (must be unique). */
  agents: string[];
  /** Without `agents`: every agent of this project, as it is at each call. */
  project?: string;
  /** The agents file (`--file`): with `engines:`, each agent is served on its own engine. */
  desired?: AgentsFile;
  /** Only this engine of the file: its containers of the project are the agents, strays included. */
  engine?: string;
  /** Bytes of each stream a bash result keeps (head and tail). */
  maxOutputBytes: number;
}

export class AgentBinding {
  private readonly managers = new Map<string, AgentManager>();
  /** Agent id -> its project and engine, for the agents named with --agent. */
  private readonly fixed = new Map<string, { project: string; engine: string; port: DockerPort }>();

  private constructor(private readonly opts: BindingOptions) {}

  static async create(opts: BindingOptions): Promise<AgentBinding> {
    if (opts.agents.length === 0 && opts.project === undefined)
      throw new AgentctlError('usage', 'mcp: name the agents it serves: one or more agent ids, or a project');
    if (opts.engine !== undefined) engineNamed(opts.desired, opts.engine);
    // A file naming one engine twice is refused before the server serves anything.
    if (hasOtherEngines(opts.desired)) await openFileEngines(opts.desired, opts.port);
    const b = new AgentBinding(opts);
    for (const id of opts.agents) {
      const agent = await locateAgent(id, {
        port: opts.port,
        project: opts.project,
        desired: opts.desired,
        engine: opts.engine,
      });
      b.fixed.set(agent.agentId, { project: agent.project, engine: agent.engine, port: agent.port });
    }
    return b;
  }

  /** True when a call must say which agent (several may be meant). */
  get several(): boolean {
    return this.fixed.size !== 1;
  }

  /** The bound agents' ids (for --project alone: the project's agents right now). */
  async ids(): Promise<string[]> {
    if (this.fixed.size > 0) return [...this.fixed.keys()].sort();
    const { desired } = this.opts;
    if (this.opts.engine !== undefined) return this.agentsOn(await this.portOn(this.opts.engine));
    if (!hasOtherEngines(desired)) return this.agentsOn(this.opts.port);
    // Each engine's agents of the project, but only those it is home to: a stray copy elsewhere is
    // not what a call for that agent reaches (entry() goes to its engine).
    const lists = await Promise.all(
      enginesOf(desired).map(async (e) => {
        const ids = await this.agentsOn(await this.portOn(e.name));
        return ids.filter((id) => this.homeOf(id) === e.name);
      }),
    );
    return [...new Set(lists.flat())].sort();
  }

  private async agentsOn(port: DockerPort): Promise<string[]> {
    const rows = await port.listContainers({ [LABEL.project]: this.opts.project! });
    return [...new Set(rows.map((r) => r.labels[LABEL.agent]).filter((a): a is string => !!a))].sort();
  }

  /** The engine the file pins an agent to (`local` for one it does not declare), or the one chosen. */
  private homeOf(id: string): string {
    if (this.opts.engine !== undefined) return this.opts.engine;
    const spec = this.opts.desired?.agents.find((a) => a.id === id);
    return spec ? engineOf(spec) : LOCAL_ENGINE;
  }

  /** The engine's port: the file's engines opened once for the server (as every lookup of them is). */
  private async portOn(engine: string): Promise<DockerPort> {
    const { desired } = this.opts;
    if (!hasOtherEngines(desired) || !enginesOf(desired).some((e) => e.name === engine))
      return this.opts.port;
    return (await fileEngine(desired, engine, { port: this.opts.port })).port;
  }

  /** The bound agent a call means; refuses anything outside the set. */
  async pick(requested: string | undefined): Promise<{ id: string; mgr: AgentManager }> {
    if (requested === undefined) {
      if (this.fixed.size === 1) return await this.entry([...this.fixed.keys()][0]!);
      throw new AgentctlError(
        'usage',
        `say which agent: "agent" is one of ${(await this.ids()).join(', ') || '(none)'}`,
      );
    }
    if (this.fixed.size > 0 && !this.fixed.has(requested))
      throw new AgentctlError(
        'usage',
        `agent "${requested}" is not served here; the agents are ${[...this.fixed.keys()].sort().join(', ')}`,
      );
    if (this.fixed.size === 0 && !(await this.ids()).includes(requested))
      throw new AgentctlError(
        'usage',
        `no agent "${requested}" in project ${this.opts.project}; the agents are ${(await this.ids()).join(', ') || '(none)'}`,
      );
    return this.entry(requested);
  }

  async session(agent: string | undefined, name: string): Promise<Session> {
    const { id, mgr } = await this.pick(agent);
    return mgr.openSession(id, { name, maxOutputBytes: this.opts.maxOutputBytes });
  }

  async editor(agent: string | undefined, maxCharacters?: number): Promise<Editor> {
    const { id, mgr } = await this.pick(agent);
    return mgr.editor(id, { maxCharacters });
  }

  /** Closes the sessions whose names start with `prefix` (one MCP client's), or all. */
  async closeSessions(prefix = ''): Promise<void> {
    const all = [...this.managers.values()].flatMap((m) => m.openSessions());
    await Promise.all(all.filter((s) => s.name.startsWith(prefix)).map((s) => s.close()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.managers.values()].map((m) => m.close()));
  }

  private async entry(id: string): Promise<{ id: string; mgr: AgentManager }> {
    const fixed = this.fixed.get(id);
    const project = fixed?.project ?? this.opts.project!;
    const engine = fixed?.engine ?? this.homeOf(id);
    // One manager (and its caches) per engine and project: the same id may mean another container elsewhere.
    const key = `${engine}\n${project}`;
    let mgr = this.managers.get(key);
    if (!mgr) {
      const port = fixed?.port ?? (await this.portOn(engine));
      // Another call may have made it meanwhile: one manager per key, its sessions in one place.
      mgr = this.managers.get(key) ?? new AgentManager({ port, project });
      this.managers.set(key, mgr);
    }
    return { id, mgr };
  }
}
