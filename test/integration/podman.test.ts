/**
 * Podman's Docker-compatible API for real: a `podman system service` the test starts (own socket,
 * storage and network namespace), driven by the built binary through DOCKER_HOST, and by the library
 * for executeCommand. Each way Podman differs from dockerd either works or is refused before anything is
 * created: non-root tmpfs ownership, a non-root agent's capabilities (bounding set only, as under
 * dockerd), init (catatonit), a read-only root without Podman's writable /tmp, /run and /var/tmp, limit
 * changes without /containers/{id}/update (recreate), exec's Pid 0, the default (no nproc) on a rootful
 * Podman without CAP_SYS_RESOURCE, a healthcheck on a Podman without systemd (nothing would run it), and
 * a `runtime:` Podman would ignore.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/docker/engine.js';
import { AgentManager } from '../../src/ops/agent-manager.js';
import { agentctlAsync } from '../helpers/cli.js';
import { type TestProject, testProject } from '../helpers/project.js';
import { type TestPodman, testPodman } from '../helpers/test-podman.js';
import { which } from '../helpers/which.js';

const PODMAN = which('podman');
const CATATONIT = which('catatonit') ?? which('/usr/libexec/podman/catatonit');
if (!PODMAN || !CATATONIT) {
  console.warn(
    "SKIPPED: test/integration/podman.test.ts needs Debian's podman and catatonit packages (apt-get install podman catatonit; .ci/run installs them)",
  );
}

// The test's Podman has no systemd, so it never runs a healthcheck: the fleet says it has none (the
// refusal of one has its own test). No nproc: the file's default is what runs on Podman.
const FLEET = '  network: none\n  healthcheck: none';
const PID_MAX = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));

describe.skipIf(!PODMAN || !CATATONIT)('Podman (a podman system service of the test)', () => {
  let pm: TestPodman;
  const dirs: string[] = [];
  const env = () => ({ DOCKER_HOST: pm.host });

  beforeAll(async () => {
    pm = testPodman('ac13');
    await pm.start();
    await pm.loadTestImage();
  });
  afterAll(async () => {
    await pm?.cleanup();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  function project(tag: string, agents: string): TestProject {
    const p = testProject(tag);
    dirs.push(p.dir);
    p.write(agents, FLEET);
    return p;
  }
  const sh = (name: string, script: string) => pm.run('exec', name, 'sh', '-c', script);

  it('runs a hardened non-root agent: its tmpfs is its own, init is catatonit, the root has no writable tmpfs', async () => {
    const p = project('ac13pa', 'agents:\n  a: {}');
    const r = await agentctlAsync(['apply'], { cwd: p.dir, env: env() });
    expect(r.status, r.stderr).toBe(0);
    const name = `${p.prefix}a`;
    expect(sh(name, 'id -u').stdout).toBe('1000');
    expect(sh(name, 'stat -c %U /tmp/agent; touch /tmp/agent/x && echo wrote').stdout).toBe('agent\nwrote');
    expect(sh(name, 'cat /proc/1/cmdline | tr "\\0" " "').stdout).toMatch(/^\/run\/podman-init -- /);
    for (const dir of ['/tmp', '/run', '/var/tmp', '/']) {
      const w = sh(name, `touch ${dir}/probe`);
      expect(w.status, `${dir} is writable`).not.toBe(0);
      expect(w.stderr).toMatch(/Read-only file system/);
    }
    expect((await agentctlAsync(['diff'], { cwd: p.dir, env: env() })).status).toBe(0);
  });

  it("holds the rest of the file's hardening from inside: capabilities, no-new-privileges, memory without swap, cpus, pids", async () => {
    const p = project('ac13pc', 'agents:\n  a: {}');
    const r = await agentctlAsync(['apply'], { cwd: p.dir, env: env() });
    expect(r.status, r.stderr).toBe(0);
    const name = `${p.prefix}a`;
    // CHOWN 0, DAC_OVERRIDE 1, SETGID 6, SETUID 7: the only ones the file keeps, as the bounding set. The
    // agent is uid 1000, so as under dockerd none of them is in effect (Podman would make an add effective).
    const kept = [0, 1, 6, 7].reduce((mask, bit) => mask | (1n << BigInt(bit)), 0n);
    expect(kept).toBe(0xc3n);
    for (const pid of ['self', '1']) {
      const status = sh(name, `cat /proc/${pid}/status`).stdout;
      const field = (key: string) => status.match(new RegExp(`^${key}:\\s+(\\S+)$`, 'm'))?.[1];
      const mask = (key: string) => BigInt(`0x${field(key) ?? 'missing'}`);
      expect(mask('CapBnd'), `${pid} CapBnd`).toBe(kept);
      for (const key of ['CapEff', 'CapPrm', 'CapAmb', 'CapInh']) expect(mask(key), `${pid} ${key}`).toBe(0n);
      expect(field('NoNewPrivs'), `${pid} NoNewPrivs`).toBe('1');
    }
    // The agent's own cgroup of each controller, from /proc/self/cgroup: its path under /sys/fs/cgroup
    // when the whole tree is visible, else the root there (the engine mounts the container's own cgroup
    // at the root). The shell's own pid in its cgroup.procs proves the directory is the agent's.
    const cgroup = sh(
      name,
      [
        'if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo v2; fi',
        'dir() { if [ -f /sys/fs/cgroup/cgroup.controllers ]; then base=/sys/fs/cgroup; rel=$(sed -n "s/^0:://p" /proc/self/cgroup)',
        '  else base=/sys/fs/cgroup/$1; rel=$(awk -F: -v c=$1 \'{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }\' /proc/self/cgroup); fi',
        '  if [ -d "$base$rel" ]; then d=$base$rel; else d=$base; fi',
        '  grep -qx $$ $d/cgroup.procs && echo $d; }',
        'for f in memory.max memory.swap.max cpu.max pids.max; do c=${f%%.*}; echo "$f=$(cat $(dir $c)/$f 2>/dev/null)"; done',
        'for f in memory.limit_in_bytes memory.memsw.limit_in_bytes cpu.cfs_quota_us cpu.cfs_period_us pids.max; do c=${f%%.*}; echo "v1.$f=$(cat $(dir $c)/$f 2>/dev/null)"; done',
      ].join('\n'),
    );
    expect(cgroup.status, cgroup.stderr).toBe(0);
    const value = (key: string) =>
      cgroup.stdout.match(new RegExp(`^${key.replace(/\./g, '\\.')}=(.*)$`, 'm'))?.[1];
    const memory = String(64 * 1024 ** 2);
    if (/^v2$/m.test(cgroup.stdout)) {
      expect(value('memory.max')).toBe(memory);
      expect(value('memory.swap.max')).toBe('0');
      const [, quota, period] = /^(\d+) (\d+)$/.exec(value('cpu.max') ?? '') ?? [];
      expect(Number(quota) / Number(period)).toBe(0.5);
      expect(value('pids.max')).toBe('1024');
    } else {
      expect(value('v1.memory.limit_in_bytes')).toBe(memory);
      // memory + swap is the memory alone: no swap.
      expect(value('v1.memory.memsw.limit_in_bytes')).toBe(memory);
      expect(Number(value('v1.cpu.cfs_quota_us')) / Number(value('v1.cpu.cfs_period_us'))).toBe(0.5);
      expect(value('v1.pids.max')).toBe('1024');
    }
  });

  it('runs an agent without nproc (the default): its only process limit that binds is its pids cgroup', async () => {
    // Podman 4's own default nproc (1048576) is more than this rootful service without CAP_SYS_RESOURCE
    // may grant: the container failed to start with `error setting rlimit type 6`.
    const p = project('ac13pn', 'agents:\n  a: {}');
    const r = await agentctlAsync(['apply'], { cwd: p.dir, env: env() });
    expect(r.status, r.stderr).toBe(0);
    const name = `${p.prefix}a`;
    expect(pm.podman('inspect', '--format', '{{.State.Status}} {{.HostConfig.PidsLimit}}', name)).toBe(
      'running 1024',
    );
    const limits = sh(name, 'grep -E "^Max (processes|open files)" /proc/1/limits').stdout;
    expect(limits).toMatch(new RegExp(`^Max processes +${PID_MAX} +${PID_MAX} +processes`, 'm'));
    expect(limits).toMatch(/^Max open files +1024 +2048 +files/m);
    expect((await agentctlAsync(['diff'], { cwd: p.dir, env: env() })).status).toBe(0);
  });

  it('refuses a healthcheck (the default one included) on a Podman without systemd, before anything is created', async () => {
    const p = testProject('ac13ph');
    dirs.push(p.dir);
    p.write(
      'agents:\n  a: {}\n  b: { healthcheck: { command: ["true"] } }\n  c: { healthcheck: none }',
      '  network: none',
    );
    const r = await agentctlAsync(['apply'], { cwd: p.dir, env: env() });
    expect(r.status).toBe(1);
    for (const id of ['a', 'b'])
      expect(r.stderr).toMatch(
        new RegExp(
          `agent ${id}: a healthcheck on Podman with cgroup manager cgroupfs: Podman runs healthchecks only from systemd timers, so without systemd the probe never runs and the agent would show "starting" forever; write healthcheck: none for this agent, or run Podman with systemd`,
        ),
      );
    expect(r.stderr).not.toMatch(/agent c:/);
    for (const id of ['a', 'b', 'c']) expect(pm.run('inspect', `${p.prefix}${id}`).status).not.toBe(0);
  });

  it('recreates an agent whose limits changed, as Podman has no container update, and then is in sync', async () => {
    const p = project('ac13pu', 'agents:\n  a: {}');
    expect((await agentctlAsync(['apply'], { cwd: p.dir, env: env() })).status).toBe(0);
    const before = pm.podman('inspect', '--format', '{{.Id}}', `${p.prefix}a`);
    writeFileSync(path.join(p.workDir('a'), 'keep'), 'data');

    p.write('agents:\n  a: { memory: 96m }', FLEET);
    const plan = await agentctlAsync(['diff'], { cwd: p.dir, env: env() });
    expect(plan.status).toBe(2);
    expect(plan.stdout).toMatch(
      /a will be recreated .*memory differs? from the file, and Podman's Docker-compatible API cannot update a container/,
    );
    const r = await agentctlAsync(['apply'], { cwd: p.dir, env: env() });
    expect(r.status, r.stderr).toBe(0);
    expect(pm.podman('inspect', '--format', '{{.Id}} {{.HostConfig.Memory}}', `${p.prefix}a`)).toMatch(
      new RegExp(`^(?!${before})\\w+ ${96 * 1024 ** 2}$`),
    );
    expect(readFileSync(path.join(p.workDir('a'), 'keep'), 'utf8')).toBe('data');
    expect((await agentctlAsync(['diff'], { cwd: p.dir, env: env() })).status).toBe(0);
  });

  it('executeCommand runs commands (the image has no bash: the fallback to sh needs "never started" told right)', async () => {
    const p = project('ac13px', 'agents:\n  a: {}');
    expect((await agentctlAsync(['apply'], { cwd: p.dir, env: env() })).status).toBe(0);
    const mgr = new AgentManager({
      project: p.project,
      namePrefix: p.prefix,
      runtimeDir: path.join(p.dir, 'runtime'),
      port: new DockerEngine({ socketPath: pm.socketPath }),
    });
    const r = await mgr.executeCommand('a', 'echo out; echo err >&2; exit 3');
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([3, 'out\n', 'err\n']);
    // A command of the shell that is not found exits 127 but DID start: it must not run twice.
    const missing = await mgr.executeCommand('a', 'echo once >> /mnt/count; nosuchcommand');
    expect(missing.exitCode).toBe(127);
    expect(readFileSync(path.join(p.workDir('a'), 'count'), 'utf8')).toBe('once\n');
    // Podman's exit code for an exec that never started is 127 or, racing, 1: its message is the proof.
    const x = await agentctlAsync(['exec', '-f', p.file, 'a', '--', '/nonexistent'], {
      cwd: p.dir,
      env: env(),
    });
    expect(x.status).not.toBe(0);
    expect(x.stderr).toMatch(/"\/nonexistent": stat \/nonexistent: no such file or directory/);
  });

  it('refuses a runtime Podman would ignore, before anything is created', async () => {
    const p = project('ac13pr', 'agents:\n  a: { runtime: runc }');
    const r = await agentctlAsync(['apply'], { cwd: p.dir, env: env() });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /agent a: runtime "runc": Podman's Docker-compatible API ignores the runtime a container asks for, so the agent would silently run under Podman's default runtime/,
    );
    expect(pm.run('inspect', `${p.prefix}a`).status).not.toBe(0);
  });
});
