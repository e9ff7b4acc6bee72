/**
 * dockerd SIGKILLed while apply recreates a fleet, then restarted (the test's own dockerd, see
 * test/helpers/test-dockerd.ts). The crash leaves containers the engine lists `created` while containerd
 * still holds their task (every start fails), or `running` though they never started. The next apply (or
 * two) must converge: every agent running for real, its data kept, no leftovers.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, runAsync } from '../helpers/cli.js';
import { dockerAsync, projectPs } from '../helpers/docker.js';
import { eventually } from '../helpers/eventually.js';
import { ownEngineProject } from '../helpers/own-engine.js';
import { agentsBlock } from '../helpers/project.js';

const AGENTS = 20;
const ids = Array.from({ length: AGENTS }, (_, i) => `a${String(i).padStart(2, '0')}`);

describe('an engine crash mid-apply (own dockerd, SIGKILLed)', () => {
  const t = ownEngineProject('ac9', 'ac9crash');
  const env = () => ({ ...process.env, NO_COLOR: '1', ...t.env, AGENTCTL_ENGINE_TIMEOUT: '20' });
  // No deadline of its own, as before: the test's limit bounds it.
  const cli = (...args: string[]) =>
    runAsync(process.execPath, [CLI, ...args], { cwd: t.p.dir, env: env(), timeout: 0 });
  // Forty inspects and execs in a row: one at a time, without blocking the worker.
  const onEngine = (...args: string[]) => dockerAsync('-H', t.engine.host, ...args);

  const write = (mode: string) => t.p.write(agentsBlock(ids), `  network: none\n  env: { MODE: ${mode} }`);
  const apply = () => cli('apply', '-p', '4');
  const names = () => ids.map((id) => `${t.p.prefix}${id}`);

  // Its own waits add up to minutes (a 60 s wait for progress, up to 180 s to converge): the suite-wide
  // 60 s limit cut it short on a loaded CI machine.
  it('the next apply recreates what the crash broke and converges, data kept', async () => {
    write('one');
    expect((await apply()).status).toBe(0);
    for (const id of ids) writeFileSync(path.join(t.p.workDir(id), 'kept.txt'), id);

    // Every agent is recreated (MODE changed); the engine dies once a few of them are done.
    write('two');
    const child = spawn(process.execPath, [CLI, 'apply', '-p', '4'], {
      cwd: t.p.dir,
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let progress = '';
    child.stderr.on('data', (c: Buffer) => (progress += c.toString()));
    child.stdout.resume();
    await eventually('a few recreates done', () => (progress.match(/^ok /gm) ?? []).length >= 5, 60_000);
    t.engine.signal('SIGKILL');
    await t.engine.exited();
    await exited;
    await t.engine.start();

    // Converged within a few runs (each may still fail what it finds broken, but must repair it).
    const runs: string[] = [];
    await eventually(
      'an apply that succeeds',
      async () => {
        const r = await apply();
        runs.push(`exit ${r.status}\n${r.stdout}\n${r.stderr}`);
        return r.status === 0;
      },
      180_000,
    );
    expect(runs.length, runs.join('\n---\n')).toBeLessThanOrEqual(3);

    const diff = await cli('diff');
    expect(diff.status, diff.stdout).toBe(0);
    expect(projectPs(t.p.project, '{{.Names}}', t.engine)).toEqual(names());
    for (const [i, name] of names().entries()) {
      const [running, started, mode] = (
        await onEngine(
          'inspect',
          '-f',
          '{{.State.Running}} {{.State.StartedAt}} {{range .Config.Env}}{{.}},{{end}}',
          name,
        )
      ).split(' ');
      expect(running, name).toBe('true');
      expect(started, name).not.toMatch(/^0001-01-01/);
      expect(mode, name).toContain('MODE=two');
      // Really running: a command runs in it, and it sees its data.
      expect(await onEngine('exec', name, 'cat', '/mnt/kept.txt')).toBe(ids[i]);
      expect(readFileSync(path.join(t.p.workDir(ids[i] as string), 'kept.txt'), 'utf8')).toBe(ids[i]);
    }
  }, 300_000);
});
