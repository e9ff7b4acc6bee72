/**
 * The text editor tool (Anthropic's `text_editor_20250728`, name `str_replace_based_edit_tool`):
 * view, create, str_replace and insert on files inside an agent.
 *
 * Every file access is an exec inside the agent's container, as the agent's user: `cat` to read,
 * `cat >` with the new content on stdin to write. So permissions, read-only mounts and symlinks
 * behave exactly as they would for the agent, and no path (a symlink the agent made included) can
 * ever resolve on the host: it resolves in the container's own filesystem. The editing itself
 * (matching, line numbers) happens here, on the bytes read.
 */
import type { DockerPort } from '../docker/port.js';
import { OutputCap } from '../ops/output-cap.js';
import type { ResolvedAgent } from '../ops/resolve-agent.js';

export interface EditorInput {
  command: 'view' | 'create' | 'str_replace' | 'insert' | string;
  path: string;
  view_range?: number[];
  file_text?: string;
  old_str?: string;
  new_str?: string;
  insert_line?: number;
  /** What models send for insert; `new_str` is accepted too. */
  insert_text?: string;
  max_characters?: number;
}

export interface ToolText {
  text: string;
  isError: boolean;
}

/** Files bigger than this are not read whole (view them with a command instead). */
export const MAX_EDIT_BYTES = 16 * 1024 * 1024;
const SNIPPET_LINES = 4;
const MAX_LISTING = 1000;

/** Prints `F <size>` then the file, `D` then a listing, `N` (not there) or `E <why>`. */
const READ_SCRIPT = `
p=$1
if [ -d "$p" ]; then
  echo D
  find "$p" -mindepth 1 -maxdepth 2 2>/dev/null | head -n ${MAX_LISTING * 4}
  exit 0
fi
if [ ! -e "$p" ]; then
  if [ -L "$p" ]; then echo "E is a symbolic link to a path that does not exist"; else echo N; fi
  exit 0
fi
[ -f "$p" ] || { echo "E is not a regular file"; exit 0; }
[ -r "$p" ] || { echo "E is not readable by the agent's user (permission denied)"; exit 0; }
n=$(wc -c <"$p") || exit 3
n=$((n))
echo "F $n"
[ "$n" -le "$2" ] && exec cat -- "$p"
exit 0
`;

/** Writes stdin to $1; with $2 = create, makes the parent directories first. */
const WRITE_SCRIPT = `
p=$1
if [ "$2" = create ]; then
  d=$(dirname -- "$p")
  [ -d "$d" ] || mkdir -p -- "$d" || exit 1
fi
[ -d "$p" ] && { echo "is a directory" >&2; exit 1; }
cat >"$p"
`;

type ReadResult =
  | { kind: 'file'; size: number; data?: Buffer }
  | { kind: 'dir'; entries: string[] }
  | { kind: 'missing' }
  | { kind: 'error'; message: string };

export class Editor {
  constructor(
    /** The agent and the port of the engine it is on (a file's engines may put it on any of them). */
    private readonly agent: () => Promise<ResolvedAgent & { port: DockerPort }>,
    private readonly defaults: { maxCharacters?: number } = {},
  ) {}

  async handle(input: EditorInput): Promise<ToolText> {
    const path = input.path;
    if (typeof path !== 'string' || path === '')
      return fail('`path` is required: the absolute path of a file or directory in the agent');
    if (!path.startsWith('/'))
      return fail(`The path ${path} is not an absolute path; it must start with "/" (e.g. /mnt/${path}).`);
    switch (input.command) {
      case 'view':
        return this.view(path, input);
      case 'create':
        return this.create(path, input);
      case 'str_replace':
        return this.strReplace(path, input);
      case 'insert':
        return this.insert(path, input);
      default:
        return fail(
          `Unknown command "${String(input.command)}". Allowed commands are: view, create, str_replace, insert.`,
        );
    }
  }

  private async view(path: string, input: EditorInput): Promise<ToolText> {
    const r = await this.read(path);
    if (r.kind === 'missing')
      return fail(`The path ${path} does not exist in the agent. Check it with view on its directory.`);
    if (r.kind === 'error') return fail(`${path} ${r.message}.`);
    if (r.kind === 'dir') {
      if (input.view_range !== undefined)
        return fail('view_range applies to files only; view the directory without it.');
      const base = path.replace(/\/+$/, '') || '/';
      const shown = r.entries
        .filter(
          (e) =>
            !e
              .slice(base.length)
              .split('/')
              .some((part) => part.startsWith('.')),
        )
        .sort();
      const more = shown.length > MAX_LISTING ? `\n[... ${shown.length - MAX_LISTING} more entries ...]` : '';
      return ok(
        `Here are the files and directories up to 2 levels deep in ${path}, excluding hidden items:\n` +
          `${[base, ...shown.slice(0, MAX_LISTING)].join('\n')}${more}\n`,
      );
    }
    const text = decode(r, path);
    if (typeof text !== 'string') return text;
    const lines = splitLines(text);
    let first = 1;
    let last = lines.length;
    if (input.view_range !== undefined) {
      const range = input.view_range;
      if (!Array.isArray(range) || range.length !== 2 || !range.every(Number.isInteger))
        return fail(
          'view_range must be two whole numbers [start, end], 1-based; end -1 means the last line.',
        );
      const [start, end] = range as [number, number];
      if (start < 1 || start > Math.max(lines.length, 1))
        return fail(
          `Invalid view_range [${start}, ${end}]: start must be between 1 and ${lines.length}, the file's number of lines.`,
        );
      if (end !== -1 && (end < start || end > lines.length))
        return fail(
          `Invalid view_range [${start}, ${end}]: end must be -1, or between ${start} and ${lines.length}.`,
        );
      first = start;
      last = end === -1 ? lines.length : end;
    }
    let body = numbered(lines.slice(first - 1, last), first);
    const max = input.max_characters ?? this.defaults.maxCharacters;
    if (max !== undefined && max > 0 && body.length > max) {
      body = `${body.slice(0, max)}\n<response clipped: the file is longer than ${max} characters; view a smaller view_range>\n`;
    }
    return ok(`Here's the result of running \`cat -n\` on ${path}:\n${body}`);
  }

  private async create(path: string, input: EditorInput): Promise<ToolText> {
    if (typeof input.file_text !== 'string')
      return fail('`file_text` is required for create: the whole content of the file.');
    const before = await this.read(path, 0);
    if (before.kind === 'dir') return fail(`${path} is a directory; create writes files.`);
    const w = await this.write(path, input.file_text, 'create');
    if (w) return w;
    return ok(before.kind === 'file' ? `File overwritten: ${path}` : `File created successfully at: ${path}`);
  }

  private async strReplace(path: string, input: EditorInput): Promise<ToolText> {
    if (typeof input.old_str !== 'string' || input.old_str === '')
      return fail('`old_str` is required for str_replace: the exact text to replace, which must occur once.');
    const text = await this.readText(path);
    if (typeof text !== 'string') return text;
    const oldStr = input.old_str;
    const newStr = input.new_str ?? '';
    const at: number[] = [];
    for (let i = text.indexOf(oldStr); i >= 0; i = text.indexOf(oldStr, i + 1)) at.push(i);
    if (at.length === 0)
      return fail(
        `No replacement was performed: old_str did not appear verbatim in ${path}. ` +
          'It must match exactly, whitespace and indentation included; view the file to copy the text.',
      );
    if (at.length > 1) {
      const lines = at.map((i) => lineOf(text, i));
      return fail(
        `No replacement was performed: old_str occurs ${at.length} times in ${path}, at lines ${lines.join(', ')}. ` +
          'Include more surrounding lines in old_str so that it is unique.',
      );
    }
    const updated = text.slice(0, at[0]) + newStr + text.slice(at[0]! + oldStr.length);
    const w = await this.write(path, updated, 'replace');
    if (w) return w;
    const startLine = lineOf(text, at[0]!);
    return ok(
      `The file ${path} has been edited. ${snippet(updated, startLine, splitLines(newStr).length, path)}` +
        'Review the changes and make sure they are as expected. Edit the file again if necessary.',
    );
  }

  private async insert(path: string, input: EditorInput): Promise<ToolText> {
    const insertText = input.insert_text ?? input.new_str;
    if (typeof insertText !== 'string')
      return fail('`insert_text` (or `new_str`) is required for insert: the text to insert.');
    if (!Number.isInteger(input.insert_line))
      return fail('`insert_line` is required for insert: insert after this line (0 = at the start).');
    const text = await this.readText(path);
    if (typeof text !== 'string') return text;
    const lines = splitLines(text);
    const n = input.insert_line!;
    if (n < 0 || n > lines.length)
      return fail(
        `Invalid insert_line ${n}: it must be between 0 and ${lines.length}, the file's number of lines.`,
      );
    const piece = insertText.endsWith('\n') || insertText === '' ? insertText : `${insertText}\n`;
    // Offset of the start of line n + 1 (or the end of the file).
    let offset = 0;
    for (let i = 0; i < n; i++) offset += lines[i]!.length + 1;
    const needsNewline = n === lines.length && text.length > 0 && !text.endsWith('\n');
    const updated = needsNewline
      ? `${text}\n${piece}`
      : text.slice(0, Math.min(offset, text.length)) + piece + text.slice(Math.min(offset, text.length));
    const w = await this.write(path, updated, 'replace');
    if (w) return w;
    return ok(
      `The file ${path} has been edited. ${snippet(updated, n + 1, splitLines(piece).length, path)}` +
        'Review the changes and make sure they are as expected (correct indentation, no duplicate lines). ' +
        'Edit the file again if necessary.',
    );
  }

  private async readText(path: string): Promise<string | ToolText> {
    const r = await this.read(path);
    if (r.kind === 'missing')
      return fail(`The file ${path} does not exist in the agent; create it with the create command.`);
    if (r.kind === 'error') return fail(`${path} ${r.message}.`);
    if (r.kind === 'dir') return fail(`${path} is a directory; give the path of a file.`);
    return decode(r, path);
  }

  private async read(path: string, limit = MAX_EDIT_BYTES): Promise<ReadResult> {
    const agent = await this.agent();
    const out = new OutputCap(limit + 64 * 1024);
    const err = new OutputCap(4096);
    const outcome = await agent.port.exec(
      agent.id,
      { cmd: ['sh', '-c', READ_SCRIPT, 'agentctl-view', path, String(limit)] },
      { onOutput: (s, c) => (s === 'stdout' ? out : err).push(c) },
    );
    const raw = out.bytes();
    if (outcome.status !== 'exited' || outcome.exitCode !== 0)
      return { kind: 'error', message: `cannot be read: ${tidy(err.text()) || 'the read failed'}` };
    const eol = raw.indexOf(0x0a);
    const head = raw.subarray(0, eol < 0 ? raw.length : eol).toString('utf8');
    const rest = eol < 0 ? Buffer.alloc(0) : raw.subarray(eol + 1);
    if (head === 'N') return { kind: 'missing' };
    if (head === 'D') return { kind: 'dir', entries: rest.toString('utf8').split('\n').filter(Boolean) };
    if (head.startsWith('E ')) return { kind: 'error', message: head.slice(2) };
    const size = Number(head.slice(2));
    return size <= limit ? { kind: 'file', size, data: rest } : { kind: 'file', size };
  }

  /** undefined when written; otherwise the error result. */
  private async write(
    path: string,
    content: string,
    mode: 'create' | 'replace',
  ): Promise<ToolText | undefined> {
    const agent = await this.agent();
    const err = new OutputCap(4096);
    const outcome = await agent.port.exec(
      agent.id,
      { cmd: ['sh', '-c', WRITE_SCRIPT, 'agentctl-write', path, mode], stdin: Buffer.from(content, 'utf8') },
      { onOutput: (s, c) => (s === 'stderr' ? err.push(c) : undefined) },
    );
    if (outcome.status === 'exited' && outcome.exitCode === 0) return undefined;
    const why =
      tidy(err.text()) || `exit code ${outcome.status === 'exited' ? outcome.exitCode : outcome.status}`;
    return fail(`Cannot write ${path} as the agent's user: ${why}.`);
  }
}

function decode(r: { size: number; data?: Buffer }, path: string): string | ToolText {
  if (!r.data)
    return fail(
      `${path} is ${r.size} bytes, more than the editor reads (${MAX_EDIT_BYTES}); use the bash tool (head, sed -n) to look at parts of it.`,
    );
  if (r.data.includes(0))
    return fail(`${path} looks like a binary file (it contains NUL bytes); the editor handles text files.`);
  return r.data.toString('utf8');
}

/** Lines without their newlines; a final newline does not start another line. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

function numbered(lines: string[], first: number): string {
  return lines.map((l, i) => `${String(first + i).padStart(6)}\t${l}\n`).join('');
}

function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function snippet(text: string, startLine: number, count: number, path: string): string {
  const lines = splitLines(text);
  const from = Math.max(1, startLine - SNIPPET_LINES);
  const to = Math.min(lines.length, startLine + Math.max(count, 1) - 1 + SNIPPET_LINES);
  return `Here's the result of running \`cat -n\` on a snippet of ${path}:\n${numbered(lines.slice(from - 1, to), from)}`;
}

/** The shell's message without its `sh: ` and script-name prefixes. */
function tidy(message: string): string {
  return message
    .trim()
    .split('\n')
    .map((l) =>
      l.replace(/^(?:agentctl-(?:view|write): )?(?:line \d+: )?/, '').replace(/^sh: (?:line \d+: )?/, ''),
    )
    .join('; ');
}

const ok = (text: string): ToolText => ({ text, isError: false });
const fail = (text: string): ToolText => ({ text, isError: true });
