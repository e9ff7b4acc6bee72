/** Naming and path rules shared by the schema error messages and the semantic checks. */
import { posix } from 'node:path';
import { AGENT_WORK_DIR } from './defaults.js';

/** Agent ids and project names: safe as container name parts, label values and directory names. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const ID_RULE =
  "lower-case letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63 characters";

export function invalidIdMessage(what: string, id: string): string {
  return `invalid ${what} ${JSON.stringify(id)}: use ${ID_RULE}`;
}

/** A directory name made into a project name: `My Project` -> `my-project`. */
export function projectFromDirName(dirName: string): string {
  const name = dirName
    .toLowerCase()
    .replace(/[^a-z0-9_.-]/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63);
  return name === '' ? 'default' : name;
}

/** Set by agentctl for every agent; letting a user change them would break the agent's contract. */
export const RESERVED_ENV: readonly string[] = ['AGENT_ID', 'AGENT_WORK_DIR'];

export function reservedEnvMessage(name: string): string {
  return `${name} is set by agentctl and cannot be overridden`;
}

export function reservedLabelMessage(key: string): string {
  return `label ${JSON.stringify(key)} is reserved: keys starting with "agentctl." belong to agentctl`;
}

/** Why an image reference that fails the schema's pattern (Docker's reference grammar) is refused. */
export function imageReferenceMessage(image: string): string {
  if (image === '') return 'must not be empty';
  const why = /[$]/.test(image)
    ? ' (environment variables are not expanded in agents.yaml)'
    : /[A-Z]/.test(image.split('/').pop()?.split(/[:@]/)[0] ?? '')
      ? ' (repository names must be lower-case)'
      : '';
  return `invalid image reference ${JSON.stringify(image)}: expected [registry/]name[:tag][@digest]${why}`;
}

/** Why a network name that fails the schema's pattern is refused. */
export function networkMessage(network: string): string {
  if (/^container:/i.test(network)) {
    return `sharing another container's network namespace (${JSON.stringify(network)}) is not allowed`;
  }
  return `expected bridge, host, none or the name of a Docker network, got ${JSON.stringify(network)}`;
}

/** The agent's working directory is bind-mounted here; a tmpfs over it would hide the agent's data. */
const WORK_DIR = AGENT_WORK_DIR;

export function tmpfsPathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return `tmpfs path ${JSON.stringify(path)} must be absolute`;
  const normalized = posix.normalize(path).replace(/(.)\/+$/, '$1');
  if (normalized !== path)
    return `tmpfs path ${JSON.stringify(path)} is not normalized: write ${JSON.stringify(normalized)}`;
  if (path === '/') return 'a tmpfs cannot be mounted over /';
  if (path === WORK_DIR || path.startsWith(`${WORK_DIR}/`)) {
    return `a tmpfs cannot be mounted on ${path}: ${WORK_DIR} holds the agent's working directory`;
  }
  return undefined;
}
