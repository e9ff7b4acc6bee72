/**
 * Which agents an MCP server may touch: the operator's choice (`--agent`, repeated, and/or
 * `--project`), fixed when the server starts. A model can only pick among them: every tool call
 * names its agent from this set (or gets the only one), and anything else is refused.
 */
import type { DockerPort } from '../docker/port.js';
import { AgentctlError } from '../errors.js';
import { LABEL } from '../labels.js';
import { AgentManager } from '../ops/agent-manager.js';
import { resolveAgent } from '../ops/resolve-agent.js';
import type { Editor } from '../tools/editor.js';
import type { Session } from '../session/session.js';

export interface BindingOptions {
  port: DockerPort;
  /** Agents by id; with `project`, looked up in it, otherwise in every project (must be unique). */
  agents: string[];
  /** Without `agents`: every agent of this project, as it is at each call. */
  project?: string;
  /** Bytes of each stream a bash result keeps (head and tail). */
  maxOutputBytes: number;
}

export class AgentBinding {
  private readonly managers = new Map<string, AgentManager>();
  /** Agent id -> its project, for the agents named with --agent. */
  private readonly fixed = new Map<string, string>();

  private constructor(private readonly opts: BindingOptions) {}

  static async create(opts: BindingOptions): Promise<AgentBinding> {
    if (opts.agents.length === 0 && opts.project === undefined)
      throw new AgentctlError(
        'usage',
        'mcp: name the agents it serves: --agent ID (repeatable), or --project NAME',
      );
    const b = new AgentBinding(opts);
    for (const id of opts.agents) {
      const agent = await resolveAgent(opts.port, id, { project: opts.project });
      b.fixed.set(agent.agentId, agent.project);
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
    const rows = await this.opts.port.listContainers({ [LABEL.project]: this.opts.project! });
    return [...new Set(rows.map((r) => r.labels[LABEL.agent]).filter((a): a is string => !!a))].sort();
  }

  /** The bound agent a call means; refuses anything outside the set. */
  async pick(requested: string | undefined): Promise<{ id: string; mgr: AgentManager }> {
    if (requested === undefined) {
      if (this.fixed.size === 1) return this.entry([...this.fixed.keys()][0]!);
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

  private entry(id: string): { id: string; mgr: AgentManager } {
    const project = this.fixed.get(id) ?? this.opts.project!;
    let mgr = this.managers.get(project);
    if (!mgr) {
      mgr = new AgentManager({ port: this.opts.port, project });
      this.managers.set(project, mgr);
    }
    return { id, mgr };
  }
}
