/**
 * Commands that look at one engine only refuse a file placing agents on other engines, instead of
 * acting on `local` alone while the user believes every engine was looked at.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctl } from '../helpers/cli.js';

describe('a file with several engines (built binary)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-engref-'));
    writeFileSync(
      path.join(dir, 'agents.yaml'),
      [
        'version: 1',
        `project: engref-${process.pid}`,
        'runtimeDir: ./rt',
        'engines:',
        `  lab: { host: unix://${dir}/no-such.sock, runtimeDir: ${dir}/lab-rt }`,
        'agents:',
        '  a: { image: agentctl-test-busybox:latest }',
        '  b: { image: agentctl-test-busybox:latest, engine: lab }',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([['cleanup'], ['ps'], ['down']])('%s refuses it, naming the other engine, exit 1', (cmd) => {
    const r = agentctl([cmd, '-f', 'agents.yaml'], { cwd: dir });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/engines other than local \(lab\) is not supported yet; nothing was changed/);
  });
});
