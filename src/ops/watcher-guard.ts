/**
 * start/stop/restart behind a watcher's back: a live `apply --watch` of the project keeps the engine as
 * its file says, so stopping an agent the file keeps running (or starting one it keeps stopped) is
 * undone within a second. Found from the project lock, which a watcher holds with its file's path.
 */
import { loadConfig } from '../config/load.js';
import type { DesiredRunState } from '../types.js';
import { watcherOf, type Watcher } from '../lock.js';
import type { ResolvedAgent } from './resolve-agent.js';

export type LifecycleAction = 'stop' | 'start' | 'restart';

export interface Undone {
  project: string;
  watcher: Watcher;
  /** Agent ids whose change the watcher would undo. */
  agents: string[];
}

/** Per watched project, the agents whose `action` its watcher would undo (none: an empty list). */
export async function undoneByWatchers(
  agents: readonly ResolvedAgent[],
  action: LifecycleAction,
  lockDir?: string,
): Promise<Undone[]> {
  const out: Undone[] = [];
  for (const project of [...new Set(agents.map((a) => a.project))].sort()) {
    const watcher = await watcherOf(project, lockDir);
    if (!watcher) continue;
    const declared = await declaredStates(watcher.file);
    const ids = agents
      .filter((a) => a.project === project && wouldUndo(action, a, declared?.get(a.agentId), !declared))
      .map((a) => a.agentId);
    if (ids.length > 0) out.push({ project, watcher, agents: ids });
  }
  return out;
}

/**
 * Whether the watcher undoes `action` on the agent. Stopping a running agent is undone unless the file
 * keeps it stopped (an unreadable file counts as keeping it running: the watcher keeps its last good
 * state, which most likely does); starting a stopped one (restart starts it too) is undone when the
 * file keeps it stopped. An agent the file does not declare is not the watcher's to bring back.
 */
export function wouldUndo(
  action: LifecycleAction,
  agent: Pick<ResolvedAgent, 'state'>,
  declared: DesiredRunState | undefined,
  fileUnreadable: boolean,
): boolean {
  const up = agent.state === 'running' || agent.state === 'restarting' || agent.state === 'paused';
  if (action === 'stop') return up && (declared === 'running' || (declared === undefined && fileUnreadable));
  if (action === 'start') return !up && declared === 'stopped';
  return declared === 'stopped';
}

async function declaredStates(file: string): Promise<Map<string, DesiredRunState> | undefined> {
  try {
    const desired = await loadConfig(file);
    return new Map(desired.agents.map((a) => [a.id, a.state]));
  } catch {
    return undefined;
  }
}
