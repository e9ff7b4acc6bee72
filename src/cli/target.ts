/**
 * Which agents a command's ids mean: `--file` (the file's project) or `--project`; neither means
 * ./agents.yaml's project when that file exists (as `ps`), else every agent we manage on the engine,
 * where an ambiguous id is an error that lists the candidates.
 */
import { existsSync } from 'node:fs';
import { Option } from 'commander';
import { AgentctlError } from '../errors.js';
import type { DesiredState } from '../types.js';

const DEFAULT_FILE = 'agents.yaml';

export interface TargetFlags {
  file?: string;
  project?: string;
}

/** `-f, --file` where `-f` is free; `logs` keeps `-f` for --follow. */
export const targetFileOption = (short = true) =>
  new Option(`${short ? '-f, ' : ''}--file <path>`, "resolve agent ids in this agents file's project");

export const projectOption = () =>
  new Option(
    '--project <name>',
    "resolve agent ids in this project (default: ./agents.yaml's if present, else every project)",
  );

export interface Target {
  project?: string;
  /** The loaded file, when one was given. */
  desired?: DesiredState;
}

export async function resolveTarget(flags: TargetFlags): Promise<Target> {
  // As ps does: no --file and no --project means ./agents.yaml's project when there is one here.
  const file =
    flags.file ?? (flags.project === undefined && existsSync(DEFAULT_FILE) ? DEFAULT_FILE : undefined);
  if (file === undefined) return { project: flags.project };
  // The config layer is loaded only when a file is named (as exec does: it is the hot path's cost).
  const { loadDesired } = await import('./io.js');
  const desired = await loadDesired(file, { quietWarnings: true });
  if (flags.project !== undefined && flags.project !== desired.project) {
    throw new AgentctlError(
      'usage',
      `--project ${flags.project} contradicts ${desired.file}, whose project is "${desired.project}"; pass one of them`,
    );
  }
  return { project: desired.project, desired };
}
