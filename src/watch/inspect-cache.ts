/**
 * The watcher's memory of what each container's inspect said, so that a reconcile for a saved file (or
 * one agent's event) inspects only what may have changed since, not the whole fleet: at 1000 agents
 * the inspects are most of a reconcile's time.
 *
 * Why it cannot hide drift: the watcher follows the project's engine events, and every change inspect
 * can see (a `docker update` of limits, start, die, restart, health, rename...) comes with an event for
 * that container, which forgets its entry. Whatever could be missed is looked at afresh: the periodic
 * resync, an engine reconnect (events may have been lost meanwhile) and the first reconcile clear it
 * all; the containers a reconcile acted on are forgotten after it.
 */
import type { ContainerDetails, DockerPort } from '../docker/port.js';

export class InspectCache {
  private readonly entries = new Map<string, Promise<ContainerDetails | undefined>>();

  constructor(private readonly port: DockerPort) {}

  /** Observe's inspect: a remembered answer, or the engine's (remembered unless it failed). */
  readonly inspect = (id: string): Promise<ContainerDetails | undefined> => {
    let entry = this.entries.get(id);
    if (!entry) {
      entry = this.port.inspectContainer(id);
      this.entries.set(id, entry);
      entry.catch(() => {
        if (this.entries.get(id) === entry) this.entries.delete(id);
      });
    }
    return entry;
  };

  /** An event for the container (or an action on it): its next inspect asks the engine. */
  forget(id: string): void {
    this.entries.delete(id);
  }

  forgetAll(): void {
    this.entries.clear();
  }
}
