/** `agentctl exec` and `agentctl shell`: the built CLI, spawned as a user (or an agent's tool loop) runs it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctlAsync, CLI, runAsync } from '../helpers/cli.js';
import { docker } from '../helpers/docker.js';
import { type TestProject, testProject } from '../helpers/project.js';

describe('agentctl exec', () => {
  let p: TestProject;
  let other: TestProject;
  const exec = (args: string[], opts: Parameters<typeof agentctlAsync>[1] = {}) =>
    agentctlAsync(['exec', '--project', p.project, ...args], opts);

  beforeAll(async () => {
    p = testProject('exec-cli');
    // network none: exec needs none, and it keeps the test independent of the engine's bridge.
    p.write(['agents:', '  worker: {}', '  resting: { state: stopped }'].join('\n'), '  network: none');
    const applied = await agentctlAsync(['apply', '-f', p.file]);
    expect(applied.stderr).not.toMatch(/error|failed/i);
    expect(applied.status).toBe(0);
    // The same agent id in a second project, for ambiguity.
    other = testProject('exec-cli2');
    other.write(['agents:', '  worker: {}'].join('\n'), '  network: none');
    expect((await agentctlAsync(['apply', '-f', other.file])).status).toBe(0);
  });
  afterAll(() => {
    p?.cleanup();
    other?.cleanup();
  });

  it("keeps stdout and stderr apart and exits with the command's code", async () => {
    const r = await exec(['worker', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r).toEqual({ status: 7, stdout: 'out\n', stderr: 'err\n' });
    expect((await exec(['worker', '--', 'true'])).status).toBe(0);
  });

  it('leaves options after the command to the command, as docker exec does', async () => {
    const r = await exec(['worker', 'ls', '-a', '-d', '/mnt']);
    expect(r).toMatchObject({ status: 0, stdout: '/mnt\n' });
  });

  it('passes env, workdir and user', async () => {
    const r = await exec([
      '-e',
      'A=1',
      '--env',
      'B=two words',
      '-w',
      '/tmp',
      '-u',
      'root',
      'worker',
      '--',
      'sh',
      '-c',
      'echo "$A|$B"; pwd; id -u',
    ]);
    expect(r).toMatchObject({ status: 0, stdout: '1|two words\n/tmp\n0\n' });
  });

  it('pipes our stdin to the command with -i, and attaches none without', async () => {
    const piped = await exec(['-i', 'worker', '--', 'sh', '-c', 'cat; echo " [eof]"'], {
      input: 'hello from stdin',
    });
    expect(piped).toMatchObject({ status: 0, stdout: 'hello from stdin [eof]\n' });
    const detached = await exec(['worker', '--', 'sh', '-c', 'cat; echo "[eof]"'], { input: 'ignored' });
    expect(detached).toMatchObject({ status: 0, stdout: '[eof]\n' });
  });

  it('kills a command that hits --timeout inside the container and exits 124', async () => {
    const name = `${p.prefix}worker`;
    const r = await exec([
      '--timeout',
      '1',
      'worker',
      '--',
      'sh',
      '-c',
      'echo begun; sleep 1001 & setsid sleep 1002 & sleep 1003',
    ]);
    expect(r.status).toBe(124);
    expect(r.stdout).toBe('begun\n');
    expect(r.stderr).toMatch(
      /^agentctl: sh -c .*: timed out after 1 s; every process found in the container was killed \(found by the exec's marker and by descent: a process that detached and cleared its environment is not found\)\n$/,
    );
    const left = docker('exec', name, 'ps', '-o', 'args');
    expect(left).not.toMatch(/sleep 100[123]/);
  });

  it('stops the command when our reader goes away (exit 141, like a pipe writer), and on SIGINT (130)', async () => {
    const name = `${p.prefix}worker`;
    const piped = await runAsync(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${CLI}" exec --project ${p.project} worker -- yes | head -2; echo "rc=\${PIPESTATUS[0]}"`,
      ],
      { timeout: 60_000 },
    );
    expect(piped.stdout).toBe('y\ny\nrc=141\n');
    const interrupted = await runAsync(
      'sh',
      [
        '-c',
        `"${process.execPath}" "${CLI}" exec --project ${p.project} worker -- sh -c 'sleep 1007 & sleep 1008' & pid=$!; ` +
          `while ! docker exec ${name} ps -o args | grep -q "sleep 1008"; do sleep 0.1; done; kill -INT $pid; wait $pid; echo "rc=$?"`,
      ],
      { timeout: 60_000 },
    );
    expect(interrupted.stdout).toBe('rc=130\n');
    expect(docker('exec', name, 'ps', '-o', 'args')).not.toMatch(/yes|sleep 100[78]/);
  });

  it('exits 143 on SIGTERM (128 + 15, as a shell reports it), with the command killed in the container', async () => {
    const name = `${p.prefix}worker`;
    const terminated = await runAsync(
      'sh',
      [
        '-c',
        `"${process.execPath}" "${CLI}" exec --project ${p.project} worker -- sh -c 'sleep 1017' & pid=$!; ` +
          `while ! docker exec ${name} ps -o args | grep -q "sleep 1017"; do sleep 0.1; done; kill -TERM $pid; wait $pid; echo "rc=$?"`,
      ],
      { timeout: 60_000 },
    );
    expect(terminated.stdout).toBe('rc=143\n');
    expect(docker('exec', name, 'ps', '-o', 'args')).not.toMatch(/sleep 1017/);
  });

  it('refuses -it when stdin is not a terminal, as docker does, instead of hanging', async () => {
    const r = await runAsync(
      'sh',
      ['-c', `echo hi | "${process.execPath}" "${CLI}" exec -it --project ${p.project} worker -- cat`],
      { timeout: 30_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^agentctl: the input device is not a TTY/);
    // -i alone pipes the input through.
    expect(await exec(['-i', 'worker', '--', 'cat'], { input: 'hi\n' })).toMatchObject({
      status: 0,
      stdout: 'hi\n',
    });
  });

  it('takes a container id (or a prefix of one), and defaults to ./agents.yaml like ps', async () => {
    const id = docker('inspect', '-f', '{{.Id}}', `${p.prefix}worker`).trim();
    expect((await agentctlAsync(['exec', id.slice(0, 12), '--', 'sh', '-c', 'echo $AGENT_ID'])).stdout).toBe(
      'worker\n',
    );
    // worker exists in two projects: in p's directory, ./agents.yaml says which one is meant.
    const here = await agentctlAsync(['exec', 'worker', '--', 'sh', '-c', 'echo $AGENT_ID'], { cwd: p.dir });
    expect(here).toMatchObject({ status: 0, stdout: 'worker\n' });
    for (const command of [
      ['inspect', 'worker', '-o', 'json'],
      ['logs', 'worker'],
    ]) {
      const r = await agentctlAsync(command, { cwd: p.dir });
      expect(r.status, `${command.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(
      JSON.parse((await agentctlAsync(['inspect', 'worker', '-o', 'json'], { cwd: p.dir })).stdout).project,
    ).toBe(p.project);
    const stats = JSON.parse(
      (await agentctlAsync(['stats', '--no-stream', '-o', 'json'], { cwd: p.dir })).stdout,
    ) as {
      project: string;
    }[];
    expect(new Set(stats.map((r) => r.project))).toEqual(new Set([p.project]));
  });

  it('resolves the agent through --file, and by container name', async () => {
    expect(
      (await agentctlAsync(['exec', '-f', p.file, 'worker', '--', 'sh', '-c', 'echo $AGENT_ID'])).stdout,
    ).toBe('worker\n');
    expect((await agentctlAsync(['exec', `${p.prefix}worker`, '--', 'hostname'])).status).toBe(0);
  });

  it('lists the candidates when an id is in several projects', async () => {
    const r = await agentctlAsync(['exec', 'worker', '--', 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('agent "worker" is ambiguous');
    expect(r.stderr).toContain(`${p.project}/worker (${p.prefix}worker)`);
    expect(r.stderr).toContain(`${other.project}/worker (${other.prefix}worker)`);
  });

  it('fails clearly for an unknown agent, a stopped one and an unreachable engine', async () => {
    const unknown = await exec(['nope', '--', 'true']);
    expect(unknown).toEqual({
      status: 1,
      stdout: '',
      stderr: `agentctl: no agent "nope" in project "${p.project}"\n`,
    });
    const stopped = await exec(['resting', '--', 'true']);
    expect(stopped.status).toBe(1);
    expect(stopped.stderr).toBe(
      'agentctl: agent resting is not running; start it with agentctl start resting\n',
    );
    const down = await exec(['worker', '--', 'true'], {
      env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    });
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(/^agentctl: cannot reach the Docker engine .*is dockerd running\?/);
  });

  it('rejects bad flags as usage errors', async () => {
    expect((await exec(['--timeout', '0', 'worker', '--', 'true'])).stderr).toMatch(/--timeout must be/);
    expect((await exec(['-e', '=NOKEY', 'worker', '--', 'true'])).stderr).toMatch(
      /--env takes KEY=VALUE or KEY/,
    );
    expect((await exec(['-f', p.file, 'worker', '--', 'true'])).stderr).toMatch(
      /--file or --project, not both/,
    );
  });

  it('shell runs sh where there is no bash, reading commands from piped stdin', async () => {
    const r = await agentctlAsync(['shell', '--project', p.project, 'worker'], {
      input: 'echo "$0 in $(pwd)"\nexit 3\n',
    });
    expect(r).toMatchObject({ status: 3, stdout: 'sh in /mnt\n' });
  });
});
