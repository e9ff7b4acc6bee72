/**
 * Status that tells the truth, through the built CLI: apply waits for what it started to stay up and
 * fails (exit 1, with the agent's last output) for an agent that exits or restart-loops; diff and ps show
 * a crash loop as such. The engine's view is checked with docker inspect.
 */
import { describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { inspect } from '../helpers/docker.js';
import { testProjects } from '../helpers/project.js';

describe('apply, diff and ps tell the truth about agents that do not stay up (real engine)', () => {
  const project = testProjects();

  it('fails apply for a crash-looping agent with its last output; diff and ps say it is looping', async () => {
    const p = project('loop');
    p.write(
      [
        'agents:',
        '  good: {}',
        '  bad: { command: [sh, -c, "echo starting up; echo cannot open /mnt/config >&2; exit 3"] }',
      ].join('\n'),
      '  network: none',
    );
    const r = await agentctlAsync(['apply', '-f', p.file, '--wait-ready', '2']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /FAIL\s+\+ create bad: is restart-looping \(restarted \d+ time\(s\)(, last exit code 3)?\)/,
    );
    expect(r.stderr).toMatch(/\| cannot open \/mnt\/config/);
    expect(r.stderr).not.toMatch(/create good:/); // good stayed up: no FAIL line for it
    expect(r.stdout).toMatch(/Apply FAILED: 1 action\(s\) done, 1 failed/);
    expect(inspect(`${p.prefix}bad`).RestartCount).toBeGreaterThan(0);

    const d = await agentctlAsync(['diff', '-f', p.file]);
    expect(d.stdout).toMatch(/! bad is restart-looping \(restarted \d+ time\(s\)(, last exit code 3)?\)/);
    expect(d.stdout).not.toMatch(/! good/);

    const ps = await agentctlAsync(['ps', '-f', p.file]);
    expect(ps.stdout).toMatch(
      /bad\s+\S+bad\s+(running \(restarted \d+x(, starting)?\)|restarting \(restarted \d+x, last exit 3\))/,
    );
    expect(ps.stdout).toMatch(/good\s+\S+good\s+running\s/);
    const rows = JSON.parse((await agentctlAsync(['ps', '-f', p.file, '-o', 'json'])).stdout) as {
      agent: string;
      restartCount: number;
      exitCode: number;
    }[];
    const bad = rows.find((x) => x.agent === 'bad');
    expect(bad?.restartCount).toBeGreaterThan(0);
    expect([0, 3]).toContain(bad?.exitCode); // 0 while it runs again, 3 between runs
  });

  it('fails apply for an agent that exits under restart: no, and waits for nothing with --wait-ready 0', async () => {
    const p = project('exit');
    p.write('agents:\n  once: { restart: "no", command: [sh, -c, "echo bye; exit 7"] }', '  network: none');
    const r = await agentctlAsync(['apply', '-f', p.file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /FAIL\s+\+ create once: did not stay up: exited, exit code 7; its last output:\n\s+\| bye/,
    );

    const q = project('exit0');
    q.write('agents:\n  once: { restart: "no", command: [sh, -c, "sleep 1; exit 7"] }', '  network: none');
    const r0 = await agentctlAsync(['apply', '-f', q.file, '--wait-ready', '0']);
    expect(r0.status).toBe(0); // not waited for: the caller asked not to
  });

  it('passes for agents that stay up, saying it waited', async () => {
    const p = project('fine');
    p.write('agents:\n  a: {}\n  b: {}', '  network: none');
    const r = await agentctlAsync(['apply', '-f', p.file, '--wait-ready', '1']);
    expect(r.stderr).toMatch(/waiting 1s for 2 agent\(s\) to settle/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Apply complete/);
  });
});
