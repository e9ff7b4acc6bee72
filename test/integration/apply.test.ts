/**
 * apply against the real engine: the world's state is read back with the docker CLI, never through
 * agentctl's own port.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diff, reconcile } from '../../src/ops/reconcile.js';
import { docker, dockerTry, exists, inspect, projectContainers, TEST_IMAGE } from '../helpers/docker.js';
import { type TestProject, testProjects } from '../helpers/project.js';

const MiB = 1024 ** 2;

async function apply(p: TestProject, opts: Parameters<typeof reconcile>[1] = {}) {
  const { plan, report } = await reconcile(await p.load(), opts);
  const failures = report.results
    .filter((r) => !r.ok)
    .map((r) => `${r.action.kind} ${r.action.agentId}: ${r.error}`);
  expect(failures).toEqual([]);
  return { plan, report, kinds: plan.actions.map((a) => `${a.kind} ${a.agentId}`) };
}

async function planKinds(p: TestProject): Promise<string[]> {
  const { plan } = await diff(await p.load());
  return plan.actions.map((a) => `${a.kind} ${a.agentId}`);
}

describe('apply (real engine)', () => {
  const project = testProjects();

  it('creates hardened containers whose inspect shows every field of the table', async () => {
    const p = project('hard');
    p.write(
      [
        'agents:',
        '  agent-001: {}',
        '  tuned:',
        '    env: { MODE: batch }',
        '    command: [sleep, "1000"]',
      ].join('\n'),
    );
    const { kinds } = await apply(p);
    expect(kinds).toEqual(['create agent-001', 'create tuned']);
    expect(projectContainers(p.project)).toEqual([`${p.prefix}agent-001`, `${p.prefix}tuned`]);

    const c = inspect(`${p.prefix}agent-001`);
    const hc = c.HostConfig;
    expect(c.State.Running).toBe(true);
    expect(c.Config.Image).toBe(TEST_IMAGE);
    expect(c.Config.WorkingDir).toBe('/mnt');
    expect(c.Config.User).toBe('agent'); // no user in the file: the image's own (USER agent) applies
    expect(c.Config.Env).toEqual(
      expect.arrayContaining([
        'AGENT_ID=agent-001',
        'AGENT_WORK_DIR=/mnt',
        'TMPDIR=/tmp/agent',
        'PYTHONPATH=/mnt',
      ]),
    );
    expect(hc.Memory).toBe(64 * MiB);
    expect(hc.MemorySwap).toBe(64 * MiB);
    expect(hc.NanoCpus).toBe(5e8);
    expect(hc.PidsLimit).toBe(1024);
    expect(hc.Ulimits).toEqual([{ Name: 'nofile', Soft: 1024, Hard: 2048 }]); // no nproc: it is per host uid, shared by every agent of that uid (pids is per agent)
    // Owned by the image's user (agent, 1000): see createBody.
    expect(hc.Tmpfs).toEqual({
      '/tmp/agent': 'rw,noexec,nosuid,size=100m,uid=1000,gid=1000',
      '/home/agent/.cache': 'rw,noexec,nosuid,size=50m,uid=1000,gid=1000',
    });
    expect(hc.ReadonlyRootfs).toBe(true);
    expect(hc.NetworkMode).toBe('bridge');
    expect(hc.CapDrop).toEqual(['ALL']);
    expect([...hc.CapAdd].sort()).toEqual(['CHOWN', 'DAC_OVERRIDE', 'SETGID', 'SETUID']);
    expect(hc.SecurityOpt).toEqual(['no-new-privileges:true']);
    expect(hc.Privileged).toBe(false);
    expect(hc.Init).toBe(true);
    expect(hc.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-file': '3', 'max-size': '10m' } });
    expect(hc.RestartPolicy.Name).toBe('unless-stopped');
    expect(hc.Runtime).toBe('runc');
    expect(c.Mounts).toEqual([
      expect.objectContaining({
        Type: 'bind',
        Source: p.workDir('agent-001'),
        Destination: '/mnt',
        RW: true,
      }),
    ]);
    expect(c.Config.Labels).toMatchObject({ 'agentctl.project': p.project, 'agentctl.agent': 'agent-001' });
    expect(c.Config.Labels['agentctl.spec-hash']).toMatch(/^[0-9a-f]{64}$/);

    const tuned = inspect(`${p.prefix}tuned`);
    expect(tuned.Config.Cmd).toEqual(['sleep', '1000']);
    expect(tuned.Config.Env).toContain('MODE=batch');
  });

  it('gives a non-root agent a writable /mnt, and nothing else writable outside the tmpfs mounts', async () => {
    const p = project('mnt');
    p.write('agents:\n  writer: {}');
    await apply(p);
    const name = `${p.prefix}writer`;
    expect(docker('exec', name, 'id', '-u')).toBe('1000');
    docker('exec', name, 'sh', '-c', 'echo hello > /mnt/note.txt');
    const onHost = path.join(p.workDir('writer'), 'note.txt');
    expect(readFileSync(onHost, 'utf8')).toBe('hello\n');
    expect(statSync(onHost).uid).toBe(1000);
    // Only agentctl's user can reach the agents' directories on the host.
    expect(statSync(path.dirname(p.workDir('writer'))).mode & 0o777).toBe(0o700);
    docker('exec', name, 'sh', '-c', 'touch /tmp/agent/ok /home/agent/.cache/ok');
    expect(dockerTry('exec', name, 'touch', '/etc/nope').status).not.toBe(0);
    expect(dockerTry('exec', name, 'touch', '/home/agent/nope').status).not.toBe(0);
  });

  it('keeps the tmpfs scratch space writable for a non-root agent across restarts', async () => {
    const p = project('tmpfs');
    p.write('agents:\n  a: {}');
    await apply(p);
    const name = `${p.prefix}a`;
    docker('restart', '-t', '0', name);
    docker('exec', name, 'sh', '-c', 'touch /tmp/agent/after-restart /home/agent/.cache/after-restart');
    expect(docker('exec', name, 'stat', '-c', '%u', '/tmp/agent')).toBe('1000');
  });

  it('hands a working directory left by an earlier run to the agent, data and all', async () => {
    const p = project('own');
    mkdirSync(p.workDir('empty'), { recursive: true });
    mkdirSync(p.workDir('full'), { recursive: true });
    writeFileSync(path.join(p.workDir('full'), 'keep.txt'), 'root data');
    p.write('agents:\n  empty: {}\n  full: {}');
    await apply(p);
    expect(statSync(p.workDir('empty')).uid).toBe(1000);
    // The agent (uid 1000) must be able to write its /mnt: the data it was given is now its own.
    expect(statSync(p.workDir('full')).uid).toBe(1000);
    expect(statSync(path.join(p.workDir('full'), 'keep.txt')).uid).toBe(1000);
    expect(readFileSync(path.join(p.workDir('full'), 'keep.txt'), 'utf8')).toBe('root data');
    docker('exec', `${p.prefix}full`, 'sh', '-c', 'echo more >> /mnt/keep.txt && touch /mnt/new');
  });

  it('is a no-op the second time', async () => {
    const p = project('noop');
    p.write('agents:\n  a: {}\n  w: { replicas: 3 }');
    const first = await apply(p);
    expect(first.kinds).toEqual(['create a', 'create w-1', 'create w-2', 'create w-3']);
    const ids = projectContainers(p.project).map((n) => inspect(n).Id);
    const second = await apply(p);
    expect(second.kinds).toEqual([]);
    expect(second.plan.unchanged).toEqual(['a', 'w-1', 'w-2', 'w-3']);
    expect(projectContainers(p.project).map((n) => inspect(n).Id)).toEqual(ids);
  });

  it('changes memory in place (same container, processes keep running)', async () => {
    const p = project('mem');
    p.write('agents:\n  a: {}');
    await apply(p);
    const before = inspect(`${p.prefix}a`);
    p.write('agents:\n  a: { memory: 96m, cpus: 1, pids: 200 }');
    expect((await apply(p)).kinds).toEqual(['update a']);
    const after = inspect(`${p.prefix}a`);
    expect(after.Id).toBe(before.Id);
    expect(after.State.StartedAt).toBe(before.State.StartedAt);
    expect(after.HostConfig.Memory).toBe(96 * MiB);
    expect(after.HostConfig.MemorySwap).toBe(96 * MiB);
    expect(after.HostConfig.NanoCpus).toBe(1e9);
    expect(after.HostConfig.PidsLimit).toBe(200);
    expect(await planKinds(p)).toEqual([]);
  });

  it('recreates on an env change: new container, same name, /mnt data still there', async () => {
    const p = project('env');
    p.write('agents:\n  a: {}');
    await apply(p);
    const name = `${p.prefix}a`;
    const oldId = inspect(name).Id;
    docker('exec', name, 'sh', '-c', 'echo keep > /mnt/data.txt');
    p.write('agents:\n  a: { env: { MODE: stream } }');
    const { kinds, plan } = await apply(p);
    expect(kinds).toEqual(['recreate a']);
    expect(plan.actions[0]?.cause).toMatch(/env\.MODE/);
    const c = inspect(name);
    expect(c.Id).not.toBe(oldId);
    expect(exists(oldId)).toBe(false);
    expect(c.State.Running).toBe(true);
    expect(c.Config.Env).toContain('MODE=stream');
    expect(docker('exec', name, 'cat', '/mnt/data.txt')).toBe('keep');
    expect(projectContainers(p.project)).toEqual([name]);
  });

  it('removes an agent dropped from the file but keeps its data; --no-prune keeps the container', async () => {
    const p = project('prune');
    p.write('agents:\n  a: {}\n  b: {}');
    await apply(p);
    docker('exec', `${p.prefix}b`, 'sh', '-c', 'echo mine > /mnt/b.txt');
    p.write('agents:\n  a: {}');
    expect((await apply(p, { prune: false })).kinds).toEqual([]);
    expect(projectContainers(p.project)).toEqual([`${p.prefix}a`, `${p.prefix}b`]);
    expect((await apply(p)).kinds).toEqual(['remove b']);
    expect(projectContainers(p.project)).toEqual([`${p.prefix}a`]);
    expect(readFileSync(path.join(p.workDir('b'), 'b.txt'), 'utf8')).toBe('mine\n');
  });

  it('detects and repairs changes made behind its back: rm -f, stop, update', async () => {
    const p = project('drift');
    p.write('agents:\n  gone: {}\n  stopped: {}\n  squeezed: {}');
    await apply(p);
    docker('rm', '-f', `${p.prefix}gone`);
    docker('stop', '-t', '0', `${p.prefix}stopped`);
    docker('update', '--memory', '32m', '--memory-swap', '32m', `${p.prefix}squeezed`);

    expect(await planKinds(p)).toEqual(['create gone', 'update squeezed', 'start stopped']);
    await apply(p);
    expect(inspect(`${p.prefix}gone`).State.Running).toBe(true);
    expect(inspect(`${p.prefix}stopped`).State.Running).toBe(true);
    expect(inspect(`${p.prefix}squeezed`).HostConfig.Memory).toBe(64 * MiB);
    expect(await planKinds(p)).toEqual([]);
  });

  it('unpauses an agent paused behind its back', async () => {
    const p = project('pause');
    p.write('agents:\n  a: {}');
    await apply(p);
    docker('pause', `${p.prefix}a`);
    expect(await planKinds(p)).toEqual(['unpause a']);
    await apply(p);
    expect(inspect(`${p.prefix}a`).State.Status).toBe('running');
  });

  it('honours state: stopped, and starts the agent again when the file says running', async () => {
    const p = project('state');
    p.write('agents:\n  a: { state: stopped }');
    await apply(p);
    expect(inspect(`${p.prefix}a`).State.Status).toBe('created');
    p.write('agents:\n  a: {}');
    expect((await apply(p)).kinds).toEqual(['start a']);
    expect(inspect(`${p.prefix}a`).State.Running).toBe(true);
    p.write('agents:\n  a: { state: stopped }');
    expect((await apply(p, { stopTimeoutSeconds: 1 })).kinds).toEqual(['stop a']);
    expect(inspect(`${p.prefix}a`).State.Running).toBe(false);
  });

  it('leaves an unowned container with a clashing name alone and changes nothing', async () => {
    const p = project('clash');
    const foreign = `${p.prefix}a`;
    docker('create', '--name', foreign, TEST_IMAGE);
    try {
      const before = inspect(foreign);
      p.write('agents:\n  a: {}\n  b: {}');
      await expect(reconcile(await p.load())).rejects.toThrow(
        new RegExp(`"${foreign}" is taken by container`),
      );
      expect(projectContainers(p.project)).toEqual([]);
      expect(existsSync(p.workDir('b'))).toBe(false);
      const after = inspect(foreign);
      expect(after.Id).toBe(before.Id);
      expect(after.State.Status).toBe('created');
    } finally {
      dockerTry('rm', '-f', foreign);
    }
  });

  it('recreates when the image tag now points to a different image id', async () => {
    const p = project('img');
    const tag = `agentctl-test-variant:${p.project}`;
    const build = (marker: string) => execBuild(`FROM ${TEST_IMAGE}\nLABEL marker=${marker}\n`, tag);
    build('one');
    try {
      p.write(`agents:\n  a: { image: "${tag}" }`);
      await apply(p);
      const oldId = inspect(`${p.prefix}a`).Id;
      build('two');
      const { kinds, plan } = await apply(p);
      expect(kinds).toEqual(['recreate a']);
      expect(plan.actions[0]?.cause).toMatch(/now points to/);
      expect(inspect(`${p.prefix}a`).Id).not.toBe(oldId);
      expect(inspect(`${p.prefix}a`).Image).toBe(docker('image', 'inspect', '--format', '{{.Id}}', tag));
    } finally {
      p.cleanup();
      dockerTry('rmi', '-f', tag);
    }
  });

  it('cleans up the leftover of an interrupted recreate', async () => {
    const p = project('left');
    p.write('agents:\n  a: {}');
    await apply(p);
    // What an interrupted recreate leaves: a container with our labels under a temporary name.
    const labels = inspect(`${p.prefix}a`).Config.Labels as Record<string, string>;
    const leftover = `${p.prefix}a-next-dead00`;
    docker(
      'create',
      '--name',
      leftover,
      ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      TEST_IMAGE,
    );
    expect(await planKinds(p)).toEqual(['remove a']);
    await apply(p);
    expect(projectContainers(p.project)).toEqual([`${p.prefix}a`]);
  });

  it('refuses to tear the fleet down for a file that declares no agents, unless allowed', async () => {
    const p = project('empty');
    p.write('agents:\n  a: {}');
    await apply(p);
    p.write('agents: {}');
    // The library names its option; the CLI's handler adds the flag (test/e2e: mass-prune, lifecycle).
    const refused = reconcile(await p.load());
    await expect(refused).rejects.toThrow(/declares no agents.*refusing to remove them all$/);
    await expect(refused).rejects.toMatchObject({ optIn: 'allowEmpty' });
    expect(projectContainers(p.project)).toEqual([`${p.prefix}a`]);
    expect((await apply(p, { allowEmpty: true })).kinds).toEqual(['remove a']);
    expect(projectContainers(p.project)).toEqual([]);
  });

  it('keeps going when one agent fails, and says which', async () => {
    const p = project('partial');
    p.write('agents:\n  good: {}\n  bad: { user: nosuchuser }');
    const { report } = await reconcile(await p.load());
    expect(report.ok).toBe(false);
    const byAgent = Object.fromEntries(report.results.map((r) => [r.action.agentId, r]));
    expect(byAgent.good?.ok).toBe(true);
    expect(byAgent.bad?.ok).toBe(false);
    expect(byAgent.bad?.error).toMatch(/nosuchuser/);
    expect(inspect(`${p.prefix}good`).State.Running).toBe(true);
  });
});

function execBuild(dockerfile: string, tag: string): void {
  const r = spawnSync('docker', ['build', '-q', '-t', tag, '-'], {
    input: dockerfile,
    encoding: 'utf8',
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
  });
  if (r.status !== 0) throw new Error(`docker build failed: ${r.stderr}`);
}
