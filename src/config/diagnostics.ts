/**
 * Collects every problem and warning of one config, positioned, so that a user sees all of them at
 * once; and remembers which parts of the data failed the schema, so that the semantic checks only
 * look at data that has the shape they expect.
 */
import { configError } from '../errors.js';
import type { ConfigProblem } from '../errors.js';
import type { ConfigWarning, SourcePos } from '../types.js';
import { isPrefix, prefixed } from './field-path.js';
import type { FieldPath } from './field-path.js';
import type { SourceLocator } from './yaml-document.js';

/** Which node a message points at: the value at the path, or the key that names it. */
export type Anchor = 'value' | 'key';

export class Diagnostics {
  private readonly problems: ConfigProblem[] = [];
  private readonly warnings: ConfigWarning[] = [];
  private readonly seenProblems = new Set<string>();
  private readonly seenWarnings = new Set<string>();
  /** Paths whose data failed the schema. */
  private readonly invalid: FieldPath[] = [];

  constructor(readonly locator: SourceLocator) {}

  /**
   * A problem with the value at `path` (`agents.x.memory: ...`), or with its key, which is then
   * described from its parent (`agents.x: unknown field "privileged"`).
   */
  problem(path: FieldPath, message: string, anchor: Anchor = 'value'): void {
    const pos = anchor === 'key' ? this.locator.keyPos(path) : this.locator.valuePos(path);
    const about = anchor === 'key' ? path.slice(0, -1) : path;
    addOnce(this.problems, this.seenProblems, {
      pos,
      message: prefixed(about, message),
      path: about,
      reason: message,
    });
  }

  pos(path: FieldPath): SourcePos {
    return this.locator.valuePos(path);
  }

  warn(path: FieldPath, message: string): void {
    addOnce(this.warnings, this.seenWarnings, {
      pos: this.locator.valuePos(path),
      message: prefixed(path, message),
    });
  }

  /** A warning about the file as a whole, or worded without a path. */
  warnAt(pos: SourcePos, message: string): void {
    addOnce(this.warnings, this.seenWarnings, { pos, message });
  }

  addProblems(problems: readonly ConfigProblem[]): void {
    this.problems.push(...problems);
  }

  addWarnings(warnings: readonly ConfigWarning[]): void {
    this.warnings.push(...warnings);
  }

  markInvalid(path: FieldPath): void {
    this.invalid.push(path);
  }

  /** Neither this path nor an ancestor failed the schema: the container here has its expected type. */
  usable(path: FieldPath): boolean {
    return !this.invalid.some((bad) => isPrefix(bad, path));
  }

  /** Nothing at, above or below this path failed the schema: its whole value has its expected shape. */
  clean(path: FieldPath): boolean {
    return this.usable(path) && !this.invalid.some((bad) => isPrefix(path, bad));
  }

  /** Throws the collected problems, in file order, as one config error. */
  throwIfProblems(): void {
    if (this.problems.length > 0) throw configError(inFileOrder(this.problems));
  }

  sortedWarnings(): ConfigWarning[] {
    return inFileOrder(this.warnings);
  }
}

/** The same message at the same place is said once (e.g. a bad default shared by many agents). */
function addOnce(list: ConfigProblem[], seen: Set<string>, item: ConfigProblem & { pos: SourcePos }): void {
  const key = `${item.pos.line}:${item.pos.col}:${item.message}`;
  if (seen.has(key)) return;
  seen.add(key);
  list.push(item);
}

function inFileOrder<T extends { pos?: SourcePos }>(items: readonly T[]): T[] {
  const line = (item: T): number => item.pos?.line ?? 0;
  const col = (item: T): number => item.pos?.col ?? 0;
  return [...items].sort((a, b) => line(a) - line(b) || col(a) - col(b));
}
