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
  engine?: string;
}

/** `-f, --file` where `-f` is free; `logs` keeps `-f` for --follow. */
export const targetFileOption = (short = true) =>
  new Option(`${short ? '-f, ' : ''}--file <path>`, "resolve agent ids in this agents file's project");

export const projectOption = () =>
  new Option(
    '--project <name>',
    "resolve agent ids in this project (default: ./agents.yaml's if present, else every project)",
  );

/** `--engine NAME`: an engine of the file's `engines:` to look on instead of the agent's own. */
export const engineOption = () =>
  new Option(
    '--engine <name>',
    "look the agent up on this engine of the file only (a stray copy's), not the one the file pins it to",
  );

export interface Target {
  project?: string;
  /** The loaded file, when one was given. */
  desired?: DesiredState;
  /** The engine chosen with --engine (checked to be one of the file's). */
  engine?: string;
}

export async function resolveTarget(flags: TargetFlags): Promise<Target> {
  // As ps does: no --file and no --project means ./agents.yaml's project when there is one here.
  const file =
    flags.file ?? (flags.project === undefined && existsSync(DEFAULT_FILE) ? DEFAULT_FILE : undefined);
  if (file === undefined) {
    if (flags.engine !== undefined) throw engineWithoutFile(flags.engine);
    return { project: flags.project };
  }
  // The config layer is loaded only when a file is named (as exec does: it is the hot path's cost).
  const { loadDesired } = await import('./io.js');
  const desired = await loadDesired(file, { quietWarnings: true });
  if (flags.project !== undefined && flags.project !== desired.project) {
    throw new AgentctlError(
      'usage',
      `--project ${flags.project} contradicts ${desired.file}, whose project is "${desired.project}"; pass one of them`,
    );
  }
  if (flags.engine !== undefined) await checkEngine(desired, flags.engine);
  return { project: desired.project, desired, ...(flags.engine !== undefined && { engine: flags.engine }) };
}

/** --engine names one of the file's engines: checked before anything is looked up. */
export async function checkEngine(desired: DesiredState, engine: string): Promise<void> {
  const { engineNamed } = await import('../ops/locate-agent.js');
  try {
    engineNamed(desired, engine);
  } catch (err) {
    if (desired.engines === undefined)
      throw new AgentctlError(
        'usage',
        `--engine ${engine}: ${desired.file} declares no engines:; --engine chooses one of a file's engines`,
      );
    throw new AgentctlError('usage', `--engine ${engine}: ${(err as Error).message} in ${desired.file}`);
  }
}

export function engineWithoutFile(engine: string): AgentctlError {
  return new AgentctlError(
    'usage',
    `--engine ${engine}: an engine is one of an agents file's engines:; give the file with --file (or run where ./agents.yaml is)`,
  );
}
