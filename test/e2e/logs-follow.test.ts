/**
 * `logs -f` of one agent (built binary, real engine) goes on into the new container when apply recreates
 * the agent: the agent's bytes stay exactly as written, stdout and stderr apart, and the notice goes to
 * stderr; a removed agent ends the follow with a notice, exit 0.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { agentctlAsync as agentctl, spawnAgentctl } from '../helpers/cli.js';
import { docker, exists } from '../helpers/docker.js';
import { type TestProject, testProject } from '../helpers/project.js';

describe('logs -f of one agent across a recreate (real engine)', () => {
  let p: TestProject | undefined;
  afterEach(() => p?.cleanup());

  it("goes on with the new container's output, byte-exact, the notice on stderr; ends when it is removed", async () => {
    p = testProject('i8follow');
    // A tab and a CR before the newline: bytes a line-based reader would change, kept as they are.
    p.write(
      [
        'agents:',
        '  a:',
        '    env: { MODE: one }',
        '    command: [sh, -c, "echo $MODE; echo $MODE >&2; printf \'half\\tway\\r\\n\'; sleep 1000"]',
      ].join('\n'),
      '  network: none',
    );
    expect((await agentctl(['apply', '--wait-ready', '0'], { cwd: p.dir })).status).toBe(0);
    const first = docker('inspect', '-f', '{{.Id}}', `${p.prefix}a`).trim();
    const f = spawnAgentctl(['logs', '-f', 'a'], { cwd: p.dir });
    const started = await f.waitFor(() => f.stdout() === 'one\nhalf\tway\r\n' && f.stderr() === 'one\n');
    expect(started, JSON.stringify([f.stdout(), f.stderr()])).toBe(true);

    writeFileSync(p.file, readFileSync(p.file, 'utf8').replace('MODE: one', 'MODE: two'));
    const applied = await agentctl(['apply', '--wait-ready', '0'], { cwd: p.dir });
    expect(applied.status, applied.stderr).toBe(0);
    const second = docker('inspect', '-f', '{{.Id}}', `${p.prefix}a`).trim();
    expect(second).not.toBe(first);
    // The engine has the new container with the new env; the old one is gone.
    expect(docker('inspect', '-f', '{{.Config.Env}}', second)).toContain('MODE=two');
    expect(exists(first)).toBe(false);

    expect(
      await f.waitFor(() => f.stdout().endsWith('two\nhalf\tway\r\n') && f.stderr().endsWith('two\n')),
    ).toBe(true);
    // No prefixes, nothing added to the agent's bytes; the notice names the container the engine has.
    expect(f.stdout()).toBe('one\nhalf\tway\r\ntwo\nhalf\tway\r\n');
    expect(f.stderr()).toBe(
      `one\nagentctl: agent a was recreated: following its new container ${second.slice(0, 12)}\ntwo\n`,
    );

    docker('rm', '-f', second);
    expect(await f.exited).toBe(0);
    expect(f.stderr()).toMatch(/\ntwo\nagentctl: agent a was removed\n$/);
  }, 180_000);
});
