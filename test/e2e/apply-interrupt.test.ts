/**
 * Ctrl-C and SIGTERM during apply, with the built CLI against the test's own dockerd: the first signal
 * lets the actions in flight end and starts no new ones, reports what was done and what was not,
 * releases the lock and exits 130 (SIGINT) or 143 (SIGTERM); a second signal exits at once. Either way
 * the next apply converges.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { projectPs } from '../helpers/docker.js';
import { eventually } from '../helpers/eventually.js';
import { ownEngineProject } from '../helpers/own-engine.js';
import { agentsBlock } from '../helpers/project.js';

const ids = Array.from({ length: 10 }, (_, i) => `a${i}`);

describe('apply interrupted by a signal (own dockerd)', () => {
  const t = ownEngineProject('ac9', 'ac9sig');
  const env = () => ({ ...process.env, NO_COLOR: '1', ...t.env });

  const write = (mode: string) => t.p.write(agentsBlock(ids), `  network: none\n  env: { MODE: ${mode} }`);
  const states = () => projectPs(t.p.project, '{{.Names}} {{.State}}', t.engine);

  /** Starts apply one agent at a time and sends `signals` once the first action is done. */
  async function interrupt(signals: NodeJS.Signals[]) {
    const child = spawn(process.execPath, [CLI, 'apply', '-p', '1'], {
      cwd: t.p.dir,
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await eventually('the first action done', () => /^ok /m.test(stderr), 60_000);
    for (const s of signals) child.kill(s);
    return { code: await exited, stdout: () => stdout, stderr: () => stderr };
  }

  const apply = () =>
    spawnSync(process.execPath, [CLI, 'apply'], { cwd: t.p.dir, env: env(), encoding: 'utf8' });

  it('SIGINT: in-flight actions end, the rest are reported not started, lock released, exit 130', async () => {
    write('one');
    const r = await interrupt(['SIGINT']);
    expect(r.code, r.stderr()).toBe(130);
    expect(r.stderr()).toContain('SIGINT: apply: letting the actions in flight finish');
    const out = r.stdout();
    expect(out).toMatch(/Apply INTERRUPTED: (\d+) action\(s\) done, 0 failed, (\d+) not started/);
    const [, done, notStarted] = /(\d+) action\(s\) done, 0 failed, (\d+) not started/.exec(out) ?? [];
    expect(Number(done) + Number(notStarted)).toBe(ids.length);
    expect(Number(notStarted)).toBeGreaterThan(0);
    expect(out).toMatch(/^ {2}not started {2}\+ create a\d$/m);
    // What was done is whole: every container made is running (none left `created`), one per done create.
    expect(states()).toHaveLength(Number(done));
    expect(states().every((l) => l.endsWith(' running'))).toBe(true);
    expect(existsSync(t.locks) ? readdirSync(t.locks) : []).toEqual([]);

    const next = apply();
    expect(next.status, next.stderr).toBe(0);
    expect(states()).toHaveLength(ids.length);
    expect(states().every((l) => l.endsWith(' running'))).toBe(true);
  });

  it('SIGTERM exits 143; a second signal exits at once, and the next apply still converges', async () => {
    write('two');
    const r = await interrupt(['SIGTERM']);
    expect(r.code, r.stderr()).toBe(143);
    expect(r.stdout()).toContain('Apply INTERRUPTED');

    write('three');
    const twice = await interrupt(['SIGTERM', 'SIGTERM']);
    expect(twice.code).toBe(143);
    // Gone without its summary, but the next run takes the dead holder's lock and finishes the job.
    const next = apply();
    expect(next.status, next.stderr).toBe(0);
    const all = states();
    expect(all).toHaveLength(ids.length);
    expect(all.every((l) => l.endsWith(' running'))).toBe(true);
    for (const id of ids) {
      expect(
        t.engine.docker('inspect', '-f', '{{range .Config.Env}}{{.}},{{end}}', `${t.p.prefix}${id}`),
      ).toContain('MODE=three');
    }
  });
});
