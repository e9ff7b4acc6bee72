/**
 * A long-running `agentctl apply --watch -o json` child, as a user or a log shipper would run it: its
 * stdout is collected as one parsed JSON event per line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { WatchEvent } from '../../src/watch/events.js';
import { CLI } from './cli.js';
import { shapeProblem } from './output-schema.js';
import { eventually } from './eventually.js';

export interface WatchProcess {
  child: ChildProcess;
  pid: number;
  events: WatchEvent[];
  /** Lines of stdout that were not JSON (there should be none). */
  notJson: string[];
  /** Events that do not match schemas/output/watch.json (there should be none: waitFor fails on one). */
  badShapes: string[];
  stderr(): string;
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor<T extends WatchEvent>(
    what: string,
    match: (e: WatchEvent) => e is T,
    deadlineMs?: number,
  ): Promise<T>;
  waitFor(what: string, match: (e: WatchEvent) => boolean, deadlineMs?: number): Promise<WatchEvent>;
}

export function spawnWatch(
  args: string[],
  opts: { cwd: string; env?: Record<string, string | undefined> },
): WatchProcess {
  const child = spawn(process.execPath, [CLI, 'apply', '--watch', '-o', 'json', ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: WatchEvent[] = [];
  const notJson: string[] = [];
  const badShapes: string[] = [];
  let pending = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      let event: WatchEvent;
      try {
        event = JSON.parse(line) as WatchEvent;
      } catch {
        notJson.push(line);
        continue;
      }
      events.push(event);
      const problem = shapeProblem('watch', event);
      if (problem) badShapes.push(problem);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (what: string, match: (e: WatchEvent) => boolean, deadlineMs = 30_000) =>
    eventually(
      `${what} (stderr: ${stderr.slice(-500)})`,
      () => {
        // Every event line a test waits through is checked against its documented shape.
        if (badShapes.length > 0) throw new Error(`not as documented: ${badShapes.join('\n')}`);
        if (child.exitCode !== null) throw new Error(`agentctl exited ${child.exitCode}: ${stderr}`);
        return events.find(match);
      },
      deadlineMs,
    );
  return {
    child,
    pid: child.pid ?? -1,
    events,
    notJson,
    badShapes,
    stderr: () => stderr,
    exited,
    waitFor: waitFor as WatchProcess['waitFor'],
  };
}
