/**
 * A hung engine: the test's own dockerd (test/helpers/test-dockerd.ts) is stopped with SIGSTOP, so it
 * accepts connections and never answers. The built CLI must fail every command with a message naming the
 * engine within its deadline, and apply must release the project lock.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { type TestProject, testProject } from '../helpers/project.js';
import { type TestDockerd, testDockerd } from '../helpers/test-dockerd.js';

describe('a hung engine (own dockerd, SIGSTOPped)', () => {
  let engine: TestDockerd;
  let p: TestProject;
  let env: Record<string, string>;
  const lockDir = () => path.join(engine.root, 'locks');

  beforeAll(async () => {
    engine = testDockerd('ac9');
    await engine.start();
    await engine.loadTestImage();
    p = testProject('ac9hang');
    env = { DOCKER_HOST: engine.host, AGENTCTL_LOCK_DIR: path.join(engine.root, 'locks') };
  });

  afterAll(async () => {
    await engine?.cleanup();
    p?.cleanup();
  });

  it('diff, ps and apply fail naming the engine within the deadline; the lock is released', async () => {
    p.write('agents:\n  a: {}', '  network: none');
    expect((await agentctlAsync(['apply'], { cwd: p.dir, env })).status).toBe(0);
    p.write('agents:\n  a: {}\n  b: {}', '  network: none');

    engine.signal('SIGSTOP');
    try {
      for (const [args, extraEnv] of [
        [['diff', '--engine-timeout', '2'], {}],
        [['ps', '--engine-timeout', '2'], {}],
        [['apply', '--engine-timeout', '2'], {}],
        // The environment sets it too.
        [['apply'], { AGENTCTL_ENGINE_TIMEOUT: '2' }],
      ] as const) {
        const started = Date.now();
        const r = await agentctlAsync([...args], { cwd: p.dir, env: { ...env, ...extraEnv } });
        const took = Date.now() - started;
        expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(1);
        expect(r.stderr).toContain(`the Docker engine at ${engine.host} did not answer`);
        expect(r.stderr).toContain('within 2 s');
        // A bound on a hang, not a speed target: 2 s deadline, one call at a time on the critical path.
        expect(took).toBeLessThan(20_000);
        // No lock left behind by the failed run.
        expect(existsSync(lockDir()) ? readdirSync(lockDir()) : []).toEqual([]);
      }
    } finally {
      engine.signal('SIGCONT');
    }

    // Once the engine answers again, the next apply converges: the lock did not outlive the hung run.
    const r = await agentctlAsync(['apply'], { cwd: p.dir, env });
    expect(r.status, r.stderr).toBe(0);
    expect(engine.docker('inspect', '-f', '{{.State.Running}}', `${p.prefix}b`)).toBe('true');
  });
});
