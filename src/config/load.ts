/**
 * The config module's public entry: agents.yaml text or file -> DesiredState, or an AgentctlError
 * of kind 'config' listing every problem as `file:line:col: message`.
 */
import { realpath } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { DesiredState } from '../types.js';
import { Diagnostics } from './diagnostics.js';
import { normalize } from './normalize.js';
import type { NormalizeOptions } from './normalize.js';
import type { ParseCache } from './parse-cache.js';
import { readConfigFile, readStdin } from './read-source.js';
import { projectFromDirName } from './rules.js';
import { checkSchema } from './validate.js';
import { parseYaml } from './yaml-document.js';

/** An empty fleet must be said explicitly (`agents: {}`), never implied by an empty file. */
export const EMPTY_FILE_MESSAGE =
  'the file is empty (or holds only comments): an agents file needs "version: 1" and "agents:" (write "agents: {}" for a fleet with no agents)';

export { DEFAULT_AGENT, DEFAULT_NAME_PREFIX, DEFAULT_RUNTIME_DIR } from './defaults.js';

/** Pure: no I/O. `file` labels messages and DesiredState.file; `defaultProject` must be a valid id. */
export function parseConfig(text: string, opts: NormalizeOptions): DesiredState {
  const parsed = parseYaml(text, opts.file);
  const d = new Diagnostics(parsed.locator);
  d.addWarnings(parsed.warnings);
  // Unreadable YAML: report only that; anything checked on the partial data would mislead.
  d.addProblems(parsed.problems);
  d.throwIfProblems();
  // An empty document (or only comments) is almost always a mistake (a truncated file, the wrong path):
  // it is refused like any other file without `version`, which is what the published schema says too.
  if (parsed.data === null || parsed.data === undefined) {
    d.addProblems([{ pos: d.locator.offsetPos(0), message: EMPTY_FILE_MESSAGE }]);
    d.throwIfProblems();
  }
  checkSchema(parsed.data, d);
  const state = normalize(parsed.data, opts, d);
  d.throwIfProblems();
  return state;
}

/**
 * `fileArg` is resolved against `cwd`; `-` reads stdin. The default project is the name of the
 * file's directory (the current directory for stdin). `cache`: where a file's earlier parse is kept
 * (the CLI's; stdin is always parsed).
 */
export async function loadConfig(
  fileArg: string,
  opts: { cwd?: string; readStdin?: () => Promise<string>; cache?: ParseCache } = {},
): Promise<DesiredState> {
  const cwd = opts.cwd ?? process.cwd();
  if (fileArg === '-') {
    const text = await (opts.readStdin ?? readStdin)();
    return parseConfig(text, {
      file: '<stdin>',
      baseDir: cwd,
      defaultProject: projectFromDirName(basename(cwd)),
    });
  }
  const file = resolve(cwd, fileArg);
  const baseDir = dirname(file);
  const text = await readConfigFile(file);
  const parseOpts = { file, baseDir, defaultProject: projectFromDirName(basename(baseDir)) };
  let desired = await opts.cache?.get(text, parseOpts);
  if (!desired) {
    desired = parseConfig(text, parseOpts);
    await opts.cache?.put(text, parseOpts, desired);
  }
  // What the agentctl.file label records: the same file reached through a symlink is the same owner.
  return { ...desired, realFile: await realpath(file).catch(() => file) };
}
