/**
 * `agentctl init`: a commented starter agents.yaml that validates as written, with the schema modeline
 * editors use for completion and checking. Never overwrites a file unless told to.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { AgentctlError } from '../errors.js';
import { packageRoot } from '../util/package-root.js';

export interface InitOptions {
  /** Overwrite an existing file. */
  force?: boolean;
  /** Where the published schema is (default: the one installed with agentctl). */
  schemaPath?: string;
}

export interface InitResult {
  file: string;
  /** The modeline's `$schema`, relative to the file. */
  schema: string;
}

export function schemaPath(): string {
  return path.join(packageRoot(), 'schemas', 'agents.schema.json');
}

export function starterFile(schemaRef: string): string {
  return `# yaml-language-server: $schema=${schemaRef}
#
# A fleet of agent sandboxes. Preview with \`agentctl diff\`, converge with \`agentctl apply\`, list with
# \`agentctl ps\`, tear down with \`agentctl down\`. Every field is in the README ("The file") and in the
# schema named above, which editors with the YAML language server use to complete and check this file.
version: 1
# project: my-fleet   # the ownership scope (default: this directory's name); agentctl only ever touches
#                     # containers labelled with it
# runtimeDir: ./evanai_runtime   # agent ID's files: <runtimeDir>/agent-working-directory/ID, at /mnt
defaults:
  # Applied under every agent (env and labels merge key by key).
  image: claude-agent:latest
  # build: { context: ./agent-image }   # build the image when it is missing (agentctl build rebuilds)
  memory: 2g # no swap
  cpus: 2
  pids: 1024 # the container's own process limit
  # network: bridge   # or none, host (warned about), or a network name
  # egress: { allow: [api.anthropic.com] }   # only these hosts, through agentctl's egress gateway
  # env: { MODE: dev, ANTHROPIC_API_KEY: { fromEnv: ANTHROPIC_API_KEY } }   # a secret by reference
agents:
  agent-1: {}
  # worker: { replicas: 3 }   # worker-1 ... worker-3
  # reviewer: { memory: 4g, state: stopped }
`;
}

export function init(file: string, opts: InitOptions = {}): InitResult {
  const abs = path.resolve(file);
  const schema = path
    .relative(path.dirname(abs), opts.schemaPath ?? schemaPath())
    .split(path.sep)
    .join('/');
  try {
    // `wx`: created only if absent, in one step, so a file appearing meanwhile is not overwritten either.
    writeFileSync(abs, starterFile(schema), { flag: opts.force ? 'w' : 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new AgentctlError('usage', `${file} already exists; refusing to overwrite it`, {
        optIn: 'force',
      });
    }
    throw err;
  }
  return { file: abs, schema };
}
