/**
 * Settings that are allowed but weaken an agent's sandbox. They are warned about where they are
 * written, so that a reviewer of agents.yaml sees each one once.
 */
import { ADDABLE_CAPABILITIES, BASELINE_CAPABILITIES, canonicalCapability } from './capabilities.js';
import type { FieldPath } from './field-path.js';
import type { AgentLayer } from './layer.js';
import type { RawAgent } from './raw.js';

export const NO_AGENTS_WARNING = 'no agents declared';

export interface FieldWarning {
  /** Relative to the layer (`['network']`, `['capabilities', 'add', 2]`). */
  path: FieldPath;
  message: string;
}

/** `layer` is `raw` converted; only its fields passed validation, so they are the ones looked at. */
export function layerWarnings(raw: RawAgent, layer: AgentLayer): FieldWarning[] {
  const warnings: FieldWarning[] = [];
  if (layer.network === 'host') {
    warnings.push({
      path: ['network'],
      message: "host networking: the agent shares the host's network stack (ports, localhost services)",
    });
  }
  if (layer.readOnly === false) {
    warnings.push({
      path: ['readOnly'],
      message: 'writable root filesystem: the agent can change the files of its image',
    });
  }
  if (layer.noNewPrivileges === false) {
    warnings.push({
      path: ['noNewPrivileges'],
      message: 'no-new-privileges is off: setuid and setgid programs in the image can raise privileges',
    });
  }
  if (layer.ulimits?.nproc) {
    warnings.push({
      path: ['ulimits', 'nproc'],
      message:
        'nproc is counted per host uid across every container of that uid on this host, not per agent: ' +
        "agents sharing a uid share it, and one can starve the others (`pids` is each agent's own limit)",
    });
  }
  const dropped = layer.capDrop;
  if (dropped && !dropped.includes('ALL')) {
    const kept = ADDABLE_CAPABILITIES.filter((cap) => !dropped.includes(cap));
    if (kept.length > 0) {
      warnings.push({
        path: ['capabilities', 'drop'],
        message: `does not drop ALL: the agent keeps Docker's default capabilities ${kept.join(', ')}`,
      });
    }
  }
  for (const cap of layer.capAdd ?? []) {
    if (BASELINE_CAPABILITIES.includes(cap)) continue;
    const index = raw.capabilities?.add?.findIndex((name) => canonicalCapability(name) === cap) ?? -1;
    warnings.push({
      path: ['capabilities', 'add', index],
      message: `adds capability ${cap} beyond agentctl's default set (${BASELINE_CAPABILITIES.join(', ')})`,
    });
  }
  return warnings;
}
