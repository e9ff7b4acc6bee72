/**
 * YAML parsing that keeps positions: every problem found later (schema or semantic) is reported at
 * the line and column of the node it is about.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Alias, Document, Node, YAMLError } from 'yaml';
import type { ConfigProblem } from '../errors.js';
import type { ConfigWarning, SourcePos } from '../types.js';
import type { FieldPath } from './field-path.js';

/**
 * Aliases are expanded by toJS; a few nested anchors can expand into billions of nodes ("billion
 * laughs"). yaml counts expansions relative to the document size and throws past this limit.
 */
const MAX_ALIAS_COUNT = 100;

export interface ParsedYaml {
  /** The plain data; undefined when the document could not be read (then `problems` says why). */
  data: unknown;
  locator: SourceLocator;
  problems: ConfigProblem[];
  warnings: ConfigWarning[];
}

export function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  // prettyErrors would append a source excerpt to each message; we print one line per problem.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const locator = new SourceLocator(doc, lineCounter, file);
  const warnings = doc.warnings.map((w) => ({
    pos: locator.offsetPos(w.pos[0]),
    message: oneLine(w.message),
  }));
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({
      pos: locator.offsetPos(e.pos[0]),
      message: yamlErrorMessage(e, doc),
    }));
    return { data: undefined, locator, problems, warnings };
  }
  try {
    return { data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), locator, problems: [], warnings };
  } catch (err) {
    return { data: undefined, locator, problems: [aliasProblem(doc, locator, err)], warnings };
  }
}

/** toJS only throws about aliases: an expansion bomb or an alias to an anchor not defined before it. */
function aliasProblem(doc: Document, locator: SourceLocator, err: unknown): ConfigProblem {
  const message = err instanceof Error ? err.message : String(err);
  if (/excessive alias count/i.test(message)) {
    return {
      pos: locator.nodePos(findAlias(doc, () => true)),
      message: `too many aliases: expanding them would build a huge document (at most ${MAX_ALIAS_COUNT} expansions)`,
    };
  }
  return {
    pos: locator.nodePos(findAlias(doc, (alias) => alias.resolve(doc) === undefined)),
    message: oneLine(message),
  };
}

function findAlias(doc: Document, wanted: (alias: Alias) => boolean): Alias | undefined {
  let found: Alias | undefined;
  visit(doc, {
    Alias(_, alias) {
      if (!wanted(alias)) return undefined;
      found = alias;
      return visit.BREAK;
    },
  });
  return found;
}

/** yaml's duplicate-key message does not say which key; the key node at its position does. */
function yamlErrorMessage(error: YAMLError, doc: Document): string {
  if (error.code !== 'DUPLICATE_KEY') return oneLine(error.message);
  const key = keyAt(doc, error.pos[0]);
  const shown =
    key === undefined ? '' : ` ${JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}...` : key)}`;
  return `duplicate key${shown}: map keys must be unique`;
}

/** The text of the map key that starts at `offset`. */
function keyAt(doc: Document, offset: number): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Pair(_, pair) {
      const key = pair.key as Node | null;
      if (!key?.range || key.range[0] !== offset) return undefined;
      found = isScalar(key) ? String(key.value) : oneLine(String(key));
      return visit.BREAK;
    },
  });
  return found;
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

interface Entry {
  key?: Node;
  value?: Node;
}

/** Finds the position of a path's key or value in the parsed document. */
export class SourceLocator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    readonly file: string,
  ) {}

  offsetPos(offset: number): SourcePos {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }

  /** Start of the node, or of the file when there is none (empty document). */
  nodePos(node: Node | undefined): SourcePos {
    return this.offsetPos(node?.range?.[0] ?? 0);
  }

  /**
   * The value at `path`; for an empty value (`worker:`) its key, which is where the eye goes.
   * A path that does not exist (a default, a key from an alias) falls back to its nearest ancestor.
   */
  valuePos(path: FieldPath): SourcePos {
    let node: Node | undefined = this.doc.contents ?? undefined;
    let best = node;
    for (const segment of path) {
      const entry = this.child(node, segment);
      if (!entry) break;
      best = entry.value && !isEmptyScalar(entry.value) ? entry.value : (entry.key ?? best);
      node = entry.value;
    }
    return this.nodePos(best);
  }

  /** The key of the last segment of `path` (e.g. an unknown field name), else its parent's value. */
  keyPos(path: FieldPath): SourcePos {
    const parentPath = path.slice(0, -1);
    const last = path[path.length - 1];
    let parent: Node | undefined = this.doc.contents ?? undefined;
    for (const segment of parentPath) parent = this.child(parent, segment)?.value;
    const key = last === undefined ? undefined : this.child(parent, last)?.key;
    return key ? this.nodePos(key) : this.valuePos(parentPath);
  }

  private child(node: Node | undefined, segment: string | number): Entry | undefined {
    const target = isAlias(node) ? node.resolve(this.doc) : node;
    if (isMap(target)) {
      const pair = target.items.find((p) => isScalar(p.key) && String(p.key.value ?? '') === String(segment));
      return pair && { key: pair.key as Node, value: (pair.value as Node | null) ?? undefined };
    }
    if (isSeq(target) && typeof segment === 'number') {
      const item = target.items[segment] as Node | undefined;
      return item && { value: item };
    }
    return undefined;
  }
}

function isEmptyScalar(node: Node): boolean {
  return isScalar(node) && node.value === null && node.source === '';
}
