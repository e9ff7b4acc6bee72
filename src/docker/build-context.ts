/**
 * The build context as the docker CLI sends it: every file of the context directory that
 * `.dockerignore` does not exclude, as a tar stream, except that the Dockerfile and `.dockerignore`
 * themselves are always sent, whatever `.dockerignore` says (the engine needs the Dockerfile, and the
 * classic builder reads `.dockerignore` to keep both out of `COPY .`). A `.dockerignore` of `*` is the
 * usual way to send nothing else.
 *
 * Walked with lstat: symlinks go as links, never followed. Entries belong to 0:0, as with the CLI.
 * Sockets, FIFOs and devices are left out, as the CLI does.
 */
import { createReadStream, promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import dockerignoreModule from '@balena/dockerignore';
import { packTar, type TarWriteEntry } from './tar-writer.js';

// The package is CommonJS (`module.exports = factory`) while its typings declare a default export.
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;

/** Patterns of `.dockerignore`, plus the CLI's exceptions for the Dockerfile and `.dockerignore`. */
export function contextPatterns(dockerignoreText: string | undefined, dockerfile: string): string[] {
  const patterns = (dockerignoreText ?? '').split(/\r?\n/);
  if (patterns.every((p) => p.trim() === '' || p.trim().startsWith('#'))) return [];
  const rel = path.posix.normalize(dockerfile.replaceAll(path.sep, '/')).replace(/^\.\//, '');
  return [...patterns, `!${rel}`, '!.dockerignore'];
}

/** Decides, per context-relative path, what goes into the context. */
export class ContextFilter {
  private readonly matcher = dockerignore({ ignorecase: false });
  private readonly exceptions: string[];

  constructor(patterns: string[]) {
    this.matcher.add(patterns);
    this.exceptions = patterns
      .map((p) => p.trim())
      .filter((p) => p.startsWith('!'))
      .map((p) => path.posix.normalize(p.slice(1).trim()).replace(/^\//, ''));
  }

  excludes(rel: string): boolean {
    return this.matcher.ignores(rel);
  }

  /**
   * An excluded directory is still walked (without its own entry) when an exception pattern names
   * something under it, as the CLI does: `*` then `!sub/Dockerfile` sends sub/Dockerfile.
   */
  walkExcludedDir(rel: string): boolean {
    const dirSlash = `${rel}/`;
    return this.exceptions.some((e) => `${e}/`.startsWith(dirSlash));
  }
}

async function readIgnoreFile(context: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path.join(context, '.dockerignore'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function* contextEntries(context: string, filter: ContextFilter): AsyncGenerator<TarWriteEntry> {
  const pending: string[] = (await fs.readdir(context)).sort().reverse();
  while (pending.length > 0) {
    const rel = pending.pop() as string;
    const abs = path.join(context, rel);
    const st: Stats = await fs.lstat(abs);
    const excluded = filter.excludes(rel);
    if (excluded && !(st.isDirectory() && filter.walkExcludedDir(rel))) continue;
    const common = {
      name: rel,
      mode: st.mode & 0o7777,
      mtime: Math.floor(st.mtimeMs / 1000),
      uid: 0,
      gid: 0,
    };
    if (st.isSymbolicLink()) {
      yield { ...common, type: 'symlink', linkname: await fs.readlink(abs) };
    } else if (st.isFile()) {
      yield { ...common, type: 'file', size: st.size, body: createReadStream(abs) };
    } else if (st.isDirectory()) {
      if (!excluded) yield { ...common, type: 'directory' };
      // Reversed onto the stack, so entries go out in name order.
      for (const child of (await fs.readdir(abs)).sort().reverse()) pending.push(`${rel}/${child}`);
    }
  }
}

/** The context of `context` (an absolute directory) for a build of `dockerfile`, as a tar stream. */
export async function buildContextTar(context: string, dockerfile: string): Promise<Readable> {
  const filter = new ContextFilter(contextPatterns(await readIgnoreFile(context), dockerfile));
  return Readable.from(packTar(contextEntries(context, filter)));
}
