import { parseJsonObject } from './util/json.js';

/**
 * The labels that mark a container as ours. We only ever touch containers carrying LABEL.project with
 * the project's name; a container with one of our names but not our labels is someone else's.
 */
export const LABEL = {
  project: 'agentctl.project',
  agent: 'agentctl.agent',
  /** sha256 of the canonical hashed spec. */
  specHash: 'agentctl.spec-hash',
  /** The canonical hashed spec itself, so `diff` can show field-level before/after. */
  spec: 'agentctl.spec',
  /**
   * The name the container is meant to have. A recreate creates the replacement under a temporary
   * name and renames it at the end: a container whose actual name differs is a leftover.
   */
  name: 'agentctl.name',
  /**
   * The real path (symlinks resolved) of the file whose apply created the container. Absent when it was
   * created from stdin or by an older agentctl: such an agent belongs to whichever file declares it.
   * Not part of the spec hash: moving the file must not recreate the fleet.
   */
  file: 'agentctl.file',
  /**
   * On agentctl's own helper containers of a remote engine's HostFs (remote-host-fs.ts), value the
   * engine's name. They bind-mount the whole runtimeDir to act on it for agentctl, so they are not users
   * of the data in it (the in-use check skips them).
   */
  hostFsHelper: 'agentctl.host-fs-helper',
} as const;

/**
 * The hashed spec a container was created from, as its LABEL.spec records it; undefined without one (an
 * older agentctl, someone else's container) or when it does not read as an object. Read where it is
 * needed, not by observe: a no-op apply of 1000 agents compares hashes and never looks at the spec.
 */
export function createdSpec(
  labels: Readonly<Record<string, string>> | undefined,
): Record<string, unknown> | undefined {
  return parseJsonObject(labels?.[LABEL.spec]);
}
