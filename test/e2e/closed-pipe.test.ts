import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';

// A reader that goes away (`| head`) while the CLI still writes: node gets EPIPE, which crashed the
// process with a stack trace. No engine is needed: render's output of many agents is far more than a
// pipe holds, so the write after head has gone always fails.
const dir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-pipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const agents = Array.from({ length: 300 }, (_, i) => `  w-${i}: {}`).join('\n');
writeFileSync(
  path.join(dir, 'agents.yaml'),
  `version: 1\nproject: pipe\ndefaults:\n  image: busybox:latest\nagents:\n${agents}\n`,
);

async function piped(command: string): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = await promisify(execFile)(
    'bash',
    ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" ${command} | head -c 20; echo " rc=$?"`],
    { cwd: dir, encoding: 'utf8', timeout: 60_000 },
  );
  return { stdout, stderr };
}

describe('a reader that goes away', () => {
  it('stops a command quietly with 141, as a pipe writer killed by SIGPIPE', async () => {
    const r = await piped('render --kubernetes');
    expect(r.stdout).toMatch(/ rc=141\n$/);
    // render's warnings about the file go to stderr as usual; no crash follows them.
    expect(r.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
  });
});
