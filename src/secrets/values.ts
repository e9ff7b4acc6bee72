/**
 * Resolved secret values, held apart from every spec. The class is the only place values live between
 * resolving and creating a container; it prints, serializes and inspects as `(secrets)`, so a value can
 * never reach output by way of a log line or a JSON dump of the object that carries it.
 */
import { inspect } from 'node:util';

export class SecretValues {
  readonly #byAgent = new Map<string, Map<string, string>>();

  set(agentId: string, key: string, value: string): void {
    let agent = this.#byAgent.get(agentId);
    if (!agent) this.#byAgent.set(agentId, (agent = new Map()));
    agent.set(key, value);
  }

  /** The agent's secret variables, `KEY=value` entries for the container's Env. */
  envOf(agentId: string, keys: readonly string[]): string[] {
    const agent = this.#byAgent.get(agentId);
    return keys.map((key) => {
      const value = agent?.get(key);
      if (value === undefined) throw new Error(`secret env.${key} of agent ${agentId} was not resolved`);
      return `${key}=${value}`;
    });
  }

  toJSON(): string {
    return '(secrets)';
  }

  toString(): string {
    return '(secrets)';
  }

  [inspect.custom](): string {
    return '(secrets)';
  }
}
