/**
 * A file with several engines through the built binary, with one engine (lab) that does not exist:
 * commands that look at every engine say which one they could not reach and exit 1.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';

describe('a file with several engines (built binary)', () => {
  let dir: string;
  beforeAll(async () => {
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

  it('ps lists local, and lab as one line naming it and its agent; exit 1', async () => {
    const r = await agentctlAsync(['ps', '-f', 'agents.yaml'], { cwd: dir });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^agentctl: engine lab \(unix:\/\/.*no-such\.sock\): .*; agent b not looked at$/),
    ]);
    expect(r.stdout).toMatch(/^AGENT +ENGINE +CONTAINER +STATE/);
    expect(r.stdout).toMatch(/^a +local +claude-agent-a +missing/m);
    expect(r.stdout).toMatch(/^b +lab +claude-agent-b +unknown \(engine unreachable\)/m);
  });

  it("down takes local down and names lab, whose agent it could not look at; --data keeps b's data; exit 1", async () => {
    const r = await agentctlAsync(['down', '--data', '-f', 'agents.yaml'], { cwd: dir });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /^agentctl: engine lab \(unix:\/\/.*no-such\.sock\): .*; agent b not looked at$/m,
    );
    expect(r.stderr).toMatch(
      /kept .*lab-rt\/agent-working-directory\/b on engine lab: engine lab could not be reached/,
    );
    expect(r.stdout).toMatch(/^0 container\(s\) removed from project "engref-\d+"/m);
  });

  it("cleanup names lab and, lab being on this host, looks at none of this host's working directories; exit 1", async () => {
    mkdirSync(path.join(dir, 'rt', 'agent-working-directory', 'orphan'), { recursive: true });
    const r = await agentctlAsync(['cleanup', '--older-than', '0s', '-f', 'agents.yaml'], { cwd: dir });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^agentctl: engine lab \(unix:\/\/.*no-such\.sock\): cannot connect/m);
    expect(r.stderr).toContain(
      `agentctl: engine local: engine lab on the same host could not be asked whether a container of it mounts a working directory; none in ${dir}/rt was looked at\n`,
    );
    expect(existsSync(path.join(dir, 'rt', 'agent-working-directory', 'orphan'))).toBe(true);
  });
});
