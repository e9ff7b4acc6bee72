/** The healthcheck field: config, the container body, Podman's init path, plan and diff. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { healthcheckBody } from '../../src/docker/container-config.js';
import { podmanCreateBody } from '../../src/docker/podman.js';
import { createBody } from '../../src/docker/container-config.js';
import { AgentctlError } from '../../src/errors.js';
import { plan, probeText } from '../../src/reconcile/plan.js';
import { planToJson, renderPlan } from '../../src/render/plan-text.js';
import type { AgentSpec, DesiredState, Healthcheck } from '../../src/types.js';
import { container, desired, observed, spec } from '../helpers/specs.js';

const FILE = '/srv/demo/agents.yaml';
const DEFAULT: Healthcheck = {
  command: ['/sbin/docker-init', '--version'],
  intervalMs: 300_000,
  timeoutMs: 30_000,
  retries: 3,
  startPeriodMs: 0,
};

function parse(text: string): DesiredState {
  return parseConfig(text, { file: FILE, baseDir: '/srv/demo', defaultProject: 'demo' });
}

/** `agents: a: <settings>` with `defaults:` lines before, the agent's healthcheck. */
function healthOf(agentLines: string, defaults = ''): AgentSpec['healthcheck'] {
  const state = parse(`version: 1\n${defaults}agents:\n  a:\n${agentLines}\n`);
  const a = state.agents[0];
  if (!a) throw new Error('no agent');
  return a.healthcheck;
}

function problemsOf(text: string): string[] {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(AgentctlError);
    const e = err as AgentctlError;
    return [e.message, ...e.details];
  }
  throw new Error('expected a config error');
}

describe('healthcheck in agents.yaml', () => {
  it.each<[string, string, string, AgentSpec['healthcheck']]>([
    ['nothing written: the init probe', '    image: x', '', DEFAULT],
    ['none', '    healthcheck: none', '', 'none'],
    ['image', '    healthcheck: image', '', 'image'],
    ['an empty map: all defaults', '    healthcheck: {}', '', DEFAULT],
    [
      'an argv list, durations in several spellings',
      '    healthcheck: { command: [/bin/check, -q], interval: 1m30s, timeout: 2500ms, retries: 1, startPeriod: 2 }',
      '',
      { command: ['/bin/check', '-q'], intervalMs: 90_000, timeoutMs: 2500, retries: 1, startPeriodMs: 2000 },
    ],
    [
      'a string: the shell form',
      '    healthcheck: { command: "test -f /mnt/ok || exit 1" }',
      '',
      { ...DEFAULT, command: 'test -f /mnt/ok || exit 1' },
    ],
    [
      'only timing: the init probe with it',
      '    healthcheck: { interval: 10s }',
      '',
      { ...DEFAULT, intervalMs: 10_000 },
    ],
    [
      "defaults' healthcheck applies",
      '    image: x',
      'defaults:\n  healthcheck: { interval: 1h }\n',
      { ...DEFAULT, intervalMs: 3_600_000 },
    ],
    [
      "the agent's replaces defaults' as a whole",
      '    healthcheck: { retries: 5 }',
      'defaults:\n  healthcheck: { interval: 1h }\n',
      { ...DEFAULT, retries: 5 },
    ],
    [
      'init false with a command: kept',
      '    init: false\n    healthcheck: { command: [/x] }',
      '',
      { ...DEFAULT, command: ['/x'] },
    ],
  ])('%s', (_name, lines, defaults, expected) => {
    expect(healthOf(lines, defaults)).toEqual(expected);
  });

  it('init false without a command: no healthcheck, and a warning where init is turned off', () => {
    const state = parse('version: 1\ndefaults:\n  init: false\nagents:\n  a: {}\n  b: { replicas: 2 }\n');
    expect(state.agents.map((a) => a.healthcheck)).toEqual(['none', 'none', 'none']);
    expect(state.warnings).toEqual([
      {
        pos: { file: FILE, line: 3, col: 9 },
        message: expect.stringMatching(
          /^defaults\.init: has no healthcheck: the default probe runs \/sbin\/docker-init, which the engine adds only with init: true; set healthcheck\.command .*, or write healthcheck: none to say so$/,
        ) as string,
      },
    ]);
  });

  it('init false with healthcheck none: no warning', () => {
    expect(parse('version: 1\nagents:\n  a: { init: false, healthcheck: none }\n').warnings).toEqual([]);
  });

  it.each([
    [
      'an unknown key, with a suggestion',
      'healthcheck: { intervall: 5s }',
      /agents\.a\.healthcheck: unknown field "intervall"; did you mean "interval"\?/,
    ],
    [
      'a misspelt word',
      'healthcheck: nonee',
      /agents\.a\.healthcheck: expected none, image or a map .*, got "nonee"; did you mean "none"\?/,
    ],
    [
      'an interval below 1s',
      'healthcheck: { interval: 500ms }',
      /agents\.a\.healthcheck\.interval: must be at least 1s \(a probe is a process started in the agent\), got "500ms"/,
    ],
    [
      'an interval above 24h',
      'healthcheck: { interval: 25h }',
      /agents\.a\.healthcheck\.interval: must be at most 24h, got "25h"/,
    ],
    [
      'a timeout below 1s',
      'healthcheck: { timeout: 0 }',
      /agents\.a\.healthcheck\.timeout: must be at least 1s/,
    ],
    [
      'no duration at all',
      'healthcheck: { timeout: soon }',
      /agents\.a\.healthcheck\.timeout: expected a duration like 30s, 2m or 1m30s \(a number is seconds\), got "soon"/,
    ],
    [
      'a unit missing in the middle',
      'healthcheck: { startPeriod: 1m30 }',
      /agents\.a\.healthcheck\.startPeriod: expected a duration/,
    ],
    [
      'retries 0',
      'healthcheck: { retries: 0 }',
      /agents\.a\.healthcheck\.retries: must be at least 1, got 0/,
    ],
    [
      'an empty command',
      'healthcheck: { command: [] }',
      /agents\.a\.healthcheck\.command: must not be empty/,
    ],
    [
      'an empty shell command',
      'healthcheck: { command: "" }',
      /agents\.a\.healthcheck\.command: must not be empty/,
    ],
  ])('refuses %s, at its line', (_name, line, message) => {
    const problems = problemsOf(`version: 1\nagents:\n  a:\n    ${line}\n`);
    expect(problems.join('\n')).toMatch(message);
    expect(problems.join('\n')).toContain(`${FILE}:4:`);
  });
});

describe('healthcheck in the container body', () => {
  it.each<[string, AgentSpec['healthcheck'], unknown]>([
    [
      'exec form, nanoseconds',
      DEFAULT,
      {
        Healthcheck: {
          Test: ['CMD', '/sbin/docker-init', '--version'],
          Interval: 300e9,
          Timeout: 30e9,
          Retries: 3,
          StartPeriod: 0,
        },
      },
    ],
    [
      'shell form',
      { ...DEFAULT, command: 'exit 0', intervalMs: 1500 },
      {
        Healthcheck: {
          Test: ['CMD-SHELL', 'exit 0'],
          Interval: 1.5e9,
          Timeout: 30e9,
          Retries: 3,
          StartPeriod: 0,
        },
      },
    ],
    ["none switches the image's off", 'none', { Healthcheck: { Test: ['NONE'] } }],
    ["image: the field left out, the image's applies", 'image', {}],
  ])('%s', (_name, hc, body) => {
    expect(healthcheckBody(hc)).toEqual(body);
  });

  it('is part of the create body', () => {
    expect(createBody('demo', spec('a')).Healthcheck?.Test).toEqual([
      'CMD',
      '/sbin/docker-init',
      '--version',
    ]);
  });

  it("points the default probe at Podman's init, and leaves other commands alone", () => {
    expect(podmanCreateBody(createBody('demo', spec('a'))).Healthcheck?.Test).toEqual([
      'CMD',
      '/run/podman-init',
      '--version',
    ]);
    const own = spec('b', { healthcheck: { ...DEFAULT, command: ['/sbin/docker-init', '-h'] } });
    expect(podmanCreateBody(createBody('demo', own)).Healthcheck?.Test).toEqual([
      'CMD',
      '/sbin/docker-init',
      '-h',
    ]);
    expect(podmanCreateBody(createBody('demo', spec('c', { healthcheck: 'none' }))).Healthcheck).toEqual({
      Test: ['NONE'],
    });
  });
});

describe('healthcheck in the plan', () => {
  const old = spec('a');
  it.each<[string, AgentSpec['healthcheck'], string[], RegExp]>([
    [
      'a new interval',
      { ...DEFAULT, intervalMs: 60_000 },
      ['healthcheck.interval: 5m -> 1m'],
      /changed: healthcheck\.interval/,
    ],
    [
      'a new command',
      { ...DEFAULT, command: 'true' },
      ['healthcheck.command: ["/sbin/docker-init","--version"] -> "true"'],
      /changed: healthcheck\.command/,
    ],
    [
      'switched off',
      'none',
      [
        /^healthcheck: \{ command: \["\/sbin\/docker-init","--version"\], interval: 5m, timeout: 30s, retries: 3, startPeriod: 0s \} -> "none"$/
          .source,
      ],
      /changed: healthcheck;/,
    ],
  ])('%s recreates the agent, saying why, data kept', (_name, hc, lines, cause) => {
    const p = plan(desired([spec('a', { healthcheck: hc })]), observed([container(old)]));
    expect(p.actions.map((a) => a.kind)).toEqual(['recreate']);
    const action = p.actions[0];
    expect(action?.cause).toMatch(cause);
    expect(action?.cause).toMatch(
      /the engine cannot change a healthcheck in place, so a new container is made, data kept/,
    );
    const text = renderPlan(p);
    for (const line of lines)
      expect(text).toMatch(
        new RegExp(`^      ${line.startsWith('^') ? line.slice(1, -1) : escape(line)}$`, 'm'),
      );
  });

  it('a container made before healthchecks existed is recreated once, with the new field shown', () => {
    const { healthcheck: _, ...before } = old;
    const p = plan(desired([old]), observed([container(before as AgentSpec)]));
    expect(p.actions[0]?.kind).toBe('recreate');
    expect(renderPlan(p)).toMatch(/healthcheck: \(none\) -> \{ command: .*interval: 5m/);
  });

  it('the same healthcheck plans nothing', () => {
    expect(plan(desired([old]), observed([container(old)])).actions).toEqual([]);
  });

  it.each([
    ['no probe yet', undefined, 'unhealthy (its healthcheck fails)'],
    [
      'a probe that exited',
      { exitCode: 1, output: 'db down\nretrying' },
      'unhealthy (its healthcheck fails: exit 1, "db down")',
    ],
    [
      'a probe that timed out',
      { exitCode: -1, output: 'Health check exceeded timeout (1s)' },
      'unhealthy (its healthcheck fails: timed out or could not start, "Health check exceeded timeout (1s)")',
    ],
  ])('an unhealthy agent left alone is failing, with its last probe: %s', (_name, lastProbe, message) => {
    const c = container(old, { health: 'unhealthy', ...(lastProbe && { lastProbe }) });
    const p = plan(desired([old]), observed([c]));
    expect(p.failing).toEqual([{ agentId: 'a', message, ...(lastProbe && { lastProbe }) }]);
    expect(renderPlan(p)).toContain(`! a is ${message}`);
    expect((planToJson(p) as { failing: unknown[] }).failing).toEqual([
      { agent: 'a', message, lastProbe: lastProbe ? { ...lastProbe, end: null } : null },
    ]);
  });

  it('starting and healthy are well', () => {
    for (const health of ['starting', 'healthy'] as const)
      expect(plan(desired([old]), observed([container(old, { health })])).failing).toBeUndefined();
  });

  it('cuts a long probe output to one short line', () => {
    expect(probeText({ exitCode: 2, output: 'x'.repeat(300) })).toBe(`: exit 2, "${'x'.repeat(117)}..."`);
    expect(probeText({ exitCode: 1, output: '' })).toBe(': exit 1');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
