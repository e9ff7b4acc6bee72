/** The operating commands through the built binary, as a user runs them, against the real engine. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { docker, exists, inspect, projectContainers, TEST_IMAGE } from '../helpers/docker.js';
import { type TestProject, testProject } from '../helpers/project.js';

const DOWN = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };

describe('agentctl operating commands (real engine)', () => {
  let p: TestProject;
  let cwd: string;
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await agentctlAsync(args, { cwd });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout) as T;
  };

  beforeAll(async () => {
    p = testProject('ops');
    cwd = p.dir;
    p.write(
      [
        'agents:',
        '  a: {}',
        "  talker: { restart: 'no', command: [sh, -c, 'echo hello-out; echo hello-err >&2'] }",
      ].join('\n'),
      '  network: none',
    );
    // talker runs once and exits by design: do not wait for it to stay up.
    const r = await agentctlAsync(['apply', '--wait-ready', '0'], { cwd });
    expect(r.status).toBe(0);
    docker('wait', `${p.prefix}talker`);
  });
  afterAll(() => p.cleanup());

  it("ps lists the file's project here, and every project with --all or elsewhere", async () => {
    const here = await agentctlAsync(['ps'], { cwd });
    expect(here.stdout.split('\n')[0]).toMatch(/^AGENT\s+CONTAINER\s+STATE/);
    const all = await agentctlAsync(['ps', '--all'], { cwd });
    expect(all.status).toBe(0);
    expect(all.stdout.split('\n')[0]).toMatch(
      /^PROJECT\s+AGENT\s+CONTAINER\s+STATE\s+IMAGE\s+MEMORY\s+CPUS\s+UPTIME$/,
    );
    expect(all.stdout).toMatch(new RegExp(`^${p.project}\\s+a\\s+${p.prefix}a\\s+running`, 'm'));
    const rows = await json<{ project: string; agent: string; state: string }[]>([
      'ps',
      '--project',
      p.project,
      '-o',
      'json',
    ]);
    expect(rows.map((r) => [r.project, r.agent, r.state])).toEqual([
      [p.project, 'a', 'running'],
      [p.project, 'talker', 'exited'],
    ]);
  });

  it('logs keeps stdout and stderr apart, for a stopped agent, resolved through --file', async () => {
    const r = await agentctlAsync(['logs', 'talker', '--file', 'agents.yaml'], { cwd });
    expect([r.status, r.stdout, r.stderr]).toEqual([0, 'hello-out\n', 'hello-err\n']);
    const t = await agentctlAsync(['logs', 'talker', '--project', p.project, '-t', '-n', '1'], { cwd });
    expect(t.stdout + t.stderr).toMatch(/^\d{4}-\d\d-\d\dT\S+Z hello-(out|err)\n$/);
    const bad = await agentctlAsync(['logs', 'talker', '--project', p.project, '--since', 'yesterday'], {
      cwd,
    });
    expect([bad.status, bad.stderr]).toEqual([1, expect.stringMatching(/^agentctl: --since: /)]);
  });

  it('stop, start, restart and inspect an agent', async () => {
    const f = ['-f', 'agents.yaml'];
    expect((await agentctlAsync(['stop', 'a', '-t', '1', ...f], { cwd })).stdout).toBe(
      `stopped a (${p.project}/${p.prefix}a)\n`,
    );
    expect(inspect(`${p.prefix}a`).State.Running).toBe(false);
    expect((await agentctlAsync(['start', 'a', ...f], { cwd })).status).toBe(0);
    expect(inspect(`${p.prefix}a`).State.Running).toBe(true);
    const before = inspect(`${p.prefix}a`).State.StartedAt as string;
    expect((await agentctlAsync(['restart', 'a', '-t', '1', ...f, '-o', 'json'], { cwd })).status).toBe(0);
    expect(inspect(`${p.prefix}a`).State.StartedAt).not.toBe(before);

    const rec = await json<Record<string, unknown>>(['inspect', 'a', ...f, '-o', 'json']);
    expect(rec).toMatchObject({ agent: 'a', project: p.project, state: 'running', workDir: p.workDir('a') });
    expect(rec.spec).toMatchObject({ image: TEST_IMAGE, readOnly: true });
    const text = await agentctlAsync(['inspect', 'a', ...f], { cwd });
    expect(text.stdout).toMatch(/^agent:\s+a$/m);
    expect(text.stdout).toMatch(/^limits:\s+memory 64m, cpus 0\.5, pids 1024, restart unless-stopped$/m);
    expect(text.stdout).toMatch(/^spec:\n {2}capAdd:/m);
  });

  it('stats prints one sample as a table or JSON', async () => {
    const rows = await json<{ agent: string; memoryLimitBytes: number }[]>([
      'stats',
      '--no-stream',
      '--project',
      p.project,
      '-o',
      'json',
    ]);
    expect(rows.map((r) => [r.agent, r.memoryLimitBytes])).toEqual([['a', 64 * 1024 ** 2]]);
    const table = await agentctlAsync(['stats', '--no-stream', '-f', 'agents.yaml'], { cwd });
    expect(table.stdout.split('\n')[0]).toMatch(
      /^PROJECT\s+AGENT\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+PIDS\s+DISK \(\/mnt\)$/,
    );
    expect(table.stdout.split('\n')[1]).toMatch(
      new RegExp(`^${p.project}\\s+a\\s+\\d+\\.\\d%\\s+\\S+ / 64MiB`),
    );
  });

  it('cp copies both ways and refuses what it must, exit 1 with a message', async () => {
    const data = randomBytes(100_000);
    writeFileSync(path.join(cwd, 'in.bin'), data);
    const up = await agentctlAsync(['cp', 'in.bin', 'a:/mnt/in.bin', '-f', 'agents.yaml'], { cwd });
    expect([up.status, up.stderr]).toEqual([0, '']);
    expect(up.stdout).toMatch(/^copied 1 file\(s\), 98KiB: .*in\.bin -> a:\/mnt\/in\.bin\n$/);
    mkdirSync(path.join(cwd, 'out'));
    expect((await agentctlAsync(['cp', 'a:in.bin', 'out/', '-f', 'agents.yaml'], { cwd })).status).toBe(0);
    expect(readFileSync(path.join(cwd, 'out', 'in.bin')).equals(data)).toBe(true);

    docker('exec', `${p.prefix}a`, 'ln', '-s', '/etc/shadow', '/mnt/shadow-link');
    const evil = await agentctlAsync(['cp', 'a:/mnt/shadow-link', 'out/', '-f', 'agents.yaml'], { cwd });
    expect(evil.status).toBe(1);
    expect(evil.stderr).toMatch(/not copied: shadow-link: symlink to \/etc\/shadow is absolute/);
    expect(existsSync(path.join(cwd, 'out', 'shadow-link'))).toBe(false);

    // Into the agent: links pointing out of the copied directory are skipped and listed, the rest is
    // copied (no raw engine error, no partial copy), with a summary; host-side, dst/link/file is refused.
    const src = path.join(cwd, 'src');
    mkdirSync(path.join(src, 'sub'), { recursive: true });
    writeFileSync(path.join(src, 'sub', 'f.txt'), 'hello');
    symlinkSync('sub/f.txt', path.join(src, 'inside'));
    symlinkSync('../../../../../../etc', path.join(src, 'climbs-out'));
    symlinkSync('/etc/passwd', path.join(src, 'absolute'));
    const links = await agentctlAsync(['cp', 'src', 'a:/mnt/', '-f', 'agents.yaml'], { cwd });
    expect(links.status).toBe(1);
    expect(links.stdout).toMatch(
      /^copied 1 file\(s\), 2 directories, 1 link\(s\), 5B, 2 skipped: .*src -> a:\/mnt\/src\n$/,
    );
    expect(links.stderr).toMatch(/not copied: .*src\/absolute: symlink to \/etc\/passwd is absolute/);
    expect(links.stderr).toMatch(
      /not copied: .*src\/climbs-out: symlink to \.\.\/.* leads outside the copied directory/,
    );
    expect(links.stderr).toMatch(/2 entries were not copied\n$/);
    expect(links.stderr).not.toMatch(/invalid symlink|HTTP code/);
    expect(docker('exec', `${p.prefix}a`, 'cat', '/mnt/src/inside')).toBe('hello');
    expect(docker('exec', `${p.prefix}a`, 'ls', '/mnt/src').split('\n').sort()).toEqual(['inside', 'sub']);
    symlinkSync(path.join(cwd, 'out'), path.join(cwd, 'via'));
    const through = await agentctlAsync(['cp', 'a:in.bin', 'via/copy.bin', '-f', 'agents.yaml'], { cwd });
    expect([through.status, through.stderr]).toEqual([1, expect.stringMatching(/via is a symlink/)]);
    expect(existsSync(path.join(cwd, 'out', 'copy.bin'))).toBe(false);

    const ro = await agentctlAsync(['cp', 'in.bin', 'a:/etc/', '-f', 'agents.yaml'], { cwd });
    expect([ro.status, ro.stderr]).toEqual([
      1,
      expect.stringMatching(/^agentctl: cannot copy into \/etc: .*read-only/),
    ]);
  });

  it('run creates an ad-hoc agent; --rm -- CMD runs it to its exit code; -i runs a session', async () => {
    const project = `adhoc-${randomBytes(4).toString('hex')}`;
    const id = `job-${randomBytes(3).toString('hex')}`;
    const base = ['--project', project, '--image', TEST_IMAGE, '--memory', '64m', '--network', 'none'];
    try {
      const created = await agentctlAsync(['run', id, ...base, '-o', 'json'], { cwd });
      expect(created.status).toBe(0);
      expect(JSON.parse(created.stdout)).toMatchObject({
        agent: id,
        project,
        container: `claude-agent-${id}`,
      });
      expect(inspect(`claude-agent-${id}`).HostConfig.ReadonlyRootfs).toBe(true);

      const once = await agentctlAsync(
        ['run', `${id}-x`, ...base, '--rm', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7'],
        {
          cwd,
        },
      );
      expect(once.status).toBe(7);
      expect(once.stdout).toBe('out\n');
      expect(once.stderr).toMatch(/created in project/);
      expect(once.stderr).toMatch(/^err$/m);
      expect(exists(`claude-agent-${id}-x`)).toBe(false);

      const session = await agentctlAsync(['run', `${id}-i`, ...base, '-i', '--rm'], {
        cwd,
        input: 'echo in-session; id -u; exit 4\n',
      });
      expect(session.status).toBe(4);
      expect(session.stdout).toBe('in-session\n1000\n');
      expect(exists(`claude-agent-${id}-i`)).toBe(false);

      const missing = await agentctlAsync(
        ['run', `${id}-m`, ...base, '--image', 'agentctl-no-such-image:nope'],
        {
          cwd,
        },
      );
      expect([missing.status, missing.stderr]).toEqual([
        1,
        expect.stringMatching(/^agentctl: preflight failed/),
      ]);
      expect(projectContainers(project)).toEqual([`claude-agent-${id}`]);

      const rm = await agentctlAsync(['rm', id, '--project', project, '--data'], { cwd });
      expect(rm.status).toBe(0);
      expect(rm.stdout).toMatch(new RegExp(`^removed ${id} .*deleted .*agent-working-directory/${id}`));
      expect(existsSync(path.join(cwd, 'evanai_runtime', 'agent-working-directory', id))).toBe(false);
      // The --rm runs kept their data.
      expect(existsSync(path.join(cwd, 'evanai_runtime', 'agent-working-directory', `${id}-x`))).toBe(true);
    } finally {
      docker('ps', '-aq', '--filter', `label=agentctl.project=${project}`)
        .split('\n')
        .filter(Boolean)
        .forEach((c) => docker('rm', '-f', c));
    }
  });

  it('cleanup --dry-run reports without removing', async () => {
    const r = await agentctlAsync(['cleanup', '--dry-run', '--older-than', '0s', '-f', 'agents.yaml'], {
      cwd,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^would remove container ${p.prefix}talker \\(${p.project}/talker, exited for`, 'm'),
    );
    expect(r.stdout).toMatch(/^Dry run: would free .* 1 container\(s\), 0 working directories$/m);
    expect(exists(`${p.prefix}talker`)).toBe(true);
    const bad = await agentctlAsync(['cleanup', '--older-than', 'a while', '-f', 'agents.yaml'], { cwd });
    expect([bad.status, bad.stderr]).toEqual([1, expect.stringMatching(/^agentctl: --older-than: /)]);
  });

  it.each([
    [['logs', 'nope-zz-agent']],
    [['stop', 'nope-zz-agent']],
    [['inspect', 'nope-zz-agent']],
    [['cp', 'nope-zz-agent:/mnt/x', '.']],
  ])('%j: an unknown agent is exit 1 with its name', async (args) => {
    const r = await agentctlAsync([...args, '--project', p.project], { cwd });
    expect([r.status, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toBe(`agentctl: no agent "nope-zz-agent" in project "${p.project}"\n`);
  });

  it.each([
    [['ps', '--all']],
    [['logs', 'a']],
    [['stop', 'a']],
    [['stats', '--no-stream']],
    [['cp', 'a:/mnt/x', '.']],
    [['run', 'x', '--image', TEST_IMAGE]],
    [['cleanup', '--dry-run']],
  ])('%j with the engine down: exit 1, a clear message', async (args) => {
    const r = await agentctlAsync(args, { cwd, env: DOWN });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^agentctl: cannot reach the Docker engine .*is dockerd running\?/);
  });
});
