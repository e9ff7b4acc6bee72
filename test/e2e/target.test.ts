/**
 * apply/diff --target: only the named agents change (ids, replica instances, a replicated key); agents
 * outside the target are neither created, changed nor pruned; the mass-prune guard counts the target
 * only; an unknown target is a usage error with a did-you-mean. Built CLI, shared engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { docker, projectPs } from '../helpers/docker.js';
import { type TestProject, testProject } from '../helpers/project.js';

describe('apply/diff --target (real engine)', () => {
  let p: TestProject;
  beforeAll(async () => {
    p = testProject('i8tgt');
  });
  afterAll(() => p?.cleanup());

  const run = (...args: string[]) => agentctlAsync(args, { cwd: p.dir });
  const agents = () => projectPs(p.project, '{{.Label "agentctl.agent"}}');
  const memoryOf = (id: string) =>
    docker('inspect', '-f', '{{.HostConfig.Memory}}', `${p.prefix}${id}`).trim();

  it('creates, changes and prunes only the target', async () => {
    p.write('agents:\n  solo: {}\n  worker: { replicas: 3 }\n  old: {}', '  network: none');
    expect((await run('apply', '--target', 'worker-2', '--wait-ready', '0')).status).toBe(0);
    expect(agents()).toEqual(['worker-2']);

    // A replicated key targets every instance; two targets add up.
    const d = await run('diff', '--target', 'worker', '-o', 'json');
    expect(d.status).toBe(2);
    const dj = JSON.parse(d.stdout) as { actions: { agent: string; kind: string }[]; targets: unknown };
    expect(dj.actions.map((a) => `${a.kind} ${a.agent}`)).toEqual(['create worker-1', 'create worker-3']);
    // A limited plan says so, as text and as JSON: solo and old are not in it, though they need changes.
    expect(dj.targets).toEqual(['worker']);
    const dt = await run('diff', '--target', 'worker', '--target', 'old');
    expect(dt.stdout.split('\n')[0]).toBe('limited to --target worker, old: other agents not shown');
    expect(JSON.parse((await run('diff', '-o', 'json')).stdout).targets).toBeNull();
    expect((await run('diff')).stdout).not.toContain('limited to');
    const ap = await run('apply', '--target', 'worker', '--target', 'old', '--wait-ready', '0');
    expect(ap.status).toBe(0);
    expect(ap.stdout.split('\n')[0]).toBe('limited to --target worker, old: other agents not shown');
    // Nothing left to do for the target: apply still says the run was limited.
    const noop = await run('apply', '--target', 'worker', '-o', 'text', '--wait-ready', '0');
    expect(noop.stdout).toContain('limited to --target worker: other agents not shown');
    expect(
      (
        JSON.parse((await run('apply', '--target', 'worker', '-o', 'json')).stdout) as {
          plan: { targets: unknown };
        }
      ).plan.targets,
    ).toEqual(['worker']);
    expect(agents()).toEqual(['old', 'worker-1', 'worker-2', 'worker-3']);

    // `old` leaves the file and solo's memory changes; targeting solo creates solo and prunes nothing.
    p.write('agents:\n  solo: { memory: 96m }\n  worker: { replicas: 3, memory: 80m }', '  network: none');
    expect((await run('apply', '--target', 'solo', '--wait-ready', '0')).status).toBe(0);
    expect(agents()).toEqual(['old', 'solo', 'worker-1', 'worker-2', 'worker-3']);
    expect(memoryOf('worker-1')).toBe(String(64 * 1024 ** 2));
    expect(memoryOf('solo')).toBe(String(96 * 1024 ** 2));
    // A whole run would still change the workers and prune old: the targeted runs did not hide that.
    expect((await run('diff')).status).toBe(2);
    // Targeting the undeclared agent prunes it alone.
    expect((await run('apply', '--target', 'old', '--wait-ready', '0')).status).toBe(0);
    expect(agents()).toEqual(['solo', 'worker-1', 'worker-2', 'worker-3']);
    expect(memoryOf('worker-1')).toBe(String(64 * 1024 ** 2));
  });

  it('the mass-prune guard counts the target only', async () => {
    // Two of four agents leave the file: not a mass removal of the project, but all of the target.
    p.write('agents:\n  solo: {}\n  worker: { replicas: 1 }', '  network: none');
    const r = await run('apply', '--target', 'worker-2', '--target', 'worker-3', '--wait-ready', '0');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('would remove 2 of the targeted 2 agents (worker-2, worker-3)');
    expect(agents()).toEqual(['solo', 'worker-1', 'worker-2', 'worker-3']);
    expect(
      (
        await run(
          'apply',
          '--target',
          'worker-2',
          '--target',
          'worker-3',
          '--allow-mass-prune',
          '--wait-ready',
          '0',
        )
      ).status,
    ).toBe(0);
    expect(agents()).toEqual(['solo', 'worker-1']);
  });

  it('an unknown target is a usage error with a did-you-mean, and nothing changes', async () => {
    const r = await run('apply', '--target', 'sol');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('target sol: no agent "sol"');
    expect(r.stderr).toContain('did you mean "solo"?');
    const j = await run('diff', '--target', 'sol', '-o', 'json');
    expect(JSON.parse(j.stdout).error.kind).toBe('usage');
    expect((await run('apply', '--watch', '--target', 'solo')).stderr).toContain(
      '--target cannot be used with --watch',
    );
  });
});
