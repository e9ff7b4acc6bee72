/**
 * Follows the classic builder's output (`Step 2/9 : FROM ${BASE_IMAGE}`, then ` ---> id` once the step
 * is done) to tell whether a build failed while it was fetching a base image, and which one: the engine's
 * error for a failed pull names only the registry, not the image.
 */
const STEP = /^Step \d+\/\d+ : (\S+)\s*(.*)$/i;

export class BuildStepTracker {
  /** ARG defaults seen so far, overridden by the build's --build-arg values. */
  private readonly argDefaults = new Map<string, string>();
  private fromRef: string | undefined;

  constructor(private readonly buildArgs: Record<string, string>) {}

  line(text: string): void {
    const m = STEP.exec(text.trim());
    if (!m) {
      // " ---> 1a2b3c" ends a step: the base image, if this was FROM, is there.
      if (/^\s*---> /.test(text)) this.fromRef = undefined;
      return;
    }
    const [, instruction = '', rest = ''] = m;
    this.fromRef = undefined;
    if (instruction.toUpperCase() === 'ARG') {
      const eq = rest.indexOf('=');
      if (eq > 0) this.argDefaults.set(rest.slice(0, eq).trim(), unquote(rest.slice(eq + 1).trim()));
    } else if (instruction.toUpperCase() === 'FROM') {
      // FROM [--platform=...] image [AS name]
      const ref = rest.split(/\s+/).find((w) => !w.startsWith('--'));
      if (ref) this.fromRef = this.expand(ref);
    }
  }

  /** The base image being fetched when the build stopped, if it stopped in a FROM step. */
  failedBase(): string | undefined {
    return this.fromRef;
  }

  private expand(ref: string): string {
    return ref.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_all, a, b) => {
      const name = (a ?? b) as string;
      return this.buildArgs[name] ?? this.argDefaults.get(name) ?? '';
    });
  }
}

function unquote(s: string): string {
  return /^(["']).*\1$/.test(s) ? s.slice(1, -1) : s;
}
