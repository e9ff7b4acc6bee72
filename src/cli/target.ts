/**
 * Which agents a command's ids mean: `--file` (the file's project) or `--project`; neither means every
 * agent we manage on the engine, where an ambiguous id is an error that lists the candidates.
 */
import { Option } from 'commander';
import { AgentctlError } from '../errors.js';
import type { DesiredState } from '../types.js';

export interface TargetFlags {
  file?: string;
  project?: string;
}

/** `-f, --file` where `-f` is free; `logs` keeps `-f` for --follow. */
export const targetFileOption = (short = true) =>
  new Option(`${short ? '-f, ' : ''}--file <path>`, "resolve agent ids in this agents file's project");

export const projectOption = () =>
  new Option('--project <name>', 'resolve agent ids in this project (default: every project)');

export interface Target {
  project?: string;
  /** The loaded file, when one was given. */
  desired?: DesiredState;
}

export async function resolveTarget(flags: TargetFlags): Promise<Target> {
  if (flags.file === undefined) return { project: flags.project };
  // The config layer is loaded only when a file is named (as exec does: it is the hot path's cost).
  const { loadDesired } = await import('./io.js');
  const desired = await loadDesired(flags.file, { quietWarnings: true });
  if (flags.project !== undefined && flags.project !== desired.project) {
    throw new AgentctlError(
      'usage',
      `--project ${flags.project} contradicts ${desired.file}, whose project is "${desired.project}"; pass one of them`,
    );
  }
  return { project: desired.project, desired };
}
