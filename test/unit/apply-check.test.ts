/**
 * What diff says apply will build and what would stop it: the pure parts (which builds and why, the
 * whole-run guards) and their text and JSON.
 */
import { describe, expect, it } from 'vitest';
import { plannedBuilds, type BuildPolicy } from '../../src/reconcile/builds.js';
import { massPruneProblem } from '../../src/reconcile/guards.js';
import { plan } from '../../src/reconcile/plan.js';
import { applyCheckToJson, renderBuilds, renderProblems, wouldRefuse } from '../../src/render/apply-check.js';
import type { DesiredState, ImageBuild } from '../../src/types.js';
import { container, desired, IMAGE_ID, observed, spec } from '../helpers/specs.js';

const build = (image: string, agents: string[]): ImageBuild => ({
  image,
  context: '/work/repo/agent-image',
  dockerfile: 'Dockerfile',
  args: {},
  agents,
});
const withBuilds = (builds: ImageBuild[]): DesiredState => ({ ...desired([spec('a')]), builds });

describe('plannedBuilds', () => {
  const cases: { name: string; policy: BuildPolicy; present: string[]; expect: string[] }[] = [
    {
      name: 'missing: only the tag not on the engine',
      policy: 'missing',
      present: ['x:1'],
      expect: ['y:1 missing'],
    },
    { name: 'missing: none when all are there', policy: 'missing', present: ['x:1', 'y:1'], expect: [] },
    {
      name: 'always: a present tag is a rebuild, a missing one still missing',
      policy: 'always',
      present: ['x:1'],
      expect: ['x:1 rebuild', 'y:1 missing'],
    },
    { name: 'never: nothing', policy: 'never', present: [], expect: [] },
  ];
  for (const c of cases)
    it(c.name, () => {
      const o = observed([], { images: Object.fromEntries(c.present.map((i) => [i, IMAGE_ID])) });
      const got = plannedBuilds(withBuilds([build('x:1', ['a']), build('y:1', ['b', 'c'])]), o, c.policy);
      expect(got.map((b) => `${b.image} ${b.reason}`)).toEqual(c.expect);
    });
});

describe('massPruneProblem', () => {
  const fleet = ['a', 'b', 'c', 'd'].map((id) => spec(id));
  const cases: { name: string; keep: string[]; targeted?: string[]; expect?: string[] }[] = [
    { name: 'one of four removed: fine', keep: ['a', 'b', 'c'] },
    { name: 'three of four removed: refused', keep: ['a'], expect: ['b', 'c', 'd'] },
    { name: 'half removed: fine', keep: ['a', 'b'] },
    {
      name: 'all of the target removed: refused',
      keep: ['a', 'b'],
      targeted: ['c', 'd'],
      expect: ['c', 'd'],
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const d = desired(fleet.filter((s) => c.keep.includes(s.id)));
      const o = observed(fleet.map((s) => container(s)));
      const targeted = c.targeted && new Set(c.targeted);
      const p = plan(d, o, { prune: true });
      const got = massPruneProblem(
        d,
        targeted ? { ...p, actions: p.actions.filter((a) => targeted.has(a.agentId)) } : p,
        o,
        targeted,
      );
      expect(got?.agents).toEqual(c.expect);
      if (got) {
        expect(got.optIn).toBe('allowMassPrune');
        expect(got.message).not.toMatch(/--allow/);
      }
    });
});

describe('rendering the check', () => {
  const check = {
    builds: [{ ...build('claude-agent:latest', ['a', 'b']), reason: 'missing' as const }],
    problems: [
      { message: '/srv/agents.yaml:3:5: agent a: network "n1" does not exist on the engine', agents: ['a'] },
      {
        message: '/srv/agents.yaml would remove 3 of ...',
        agents: ['b', 'c', 'd'],
        optIn: 'allowMassPrune' as const,
      },
    ],
    warnings: ['host memory: 10 MiB available'],
  };

  it('text: the builds before the plan, relative to the directory; problems with the flag, warnings', () => {
    expect(renderBuilds(check, false, '/work/repo')).toEqual([
      '  * image claude-agent:latest will be built from ./agent-image  (not on the engine; for a, b)',
    ]);
    expect(renderBuilds(check, false, '/elsewhere')[0]).toContain('built from /work/repo/agent-image');
    expect(renderProblems(check)).toEqual([
      'apply would refuse this run (2 problem(s)), nothing would be changed:',
      '  ! /srv/agents.yaml:3:5: agent a: network "n1" does not exist on the engine',
      '  ! /srv/agents.yaml would remove 3 of ... (pass --allow-mass-prune (to apply or apply --watch) if that is what you want)',
      '  warning: host memory: 10 MiB available',
    ]);
    expect(renderProblems({ builds: [], problems: [], warnings: [] })).toEqual([]);
  });

  it('JSON: every key present, optIn null when none, ok false with a problem', () => {
    expect(applyCheckToJson(check)).toEqual({
      builds: [
        {
          image: 'claude-agent:latest',
          context: '/work/repo/agent-image',
          dockerfile: 'Dockerfile',
          agents: ['a', 'b'],
          reason: 'missing',
        },
      ],
      preflight: {
        ok: false,
        problems: [
          { message: check.problems[0]?.message, agents: ['a'], optIn: null },
          { message: check.problems[1]?.message, agents: ['b', 'c', 'd'], optIn: 'allowMassPrune' },
        ],
        warnings: ['host memory: 10 MiB available'],
      },
    });
    expect(applyCheckToJson({ builds: [], problems: [], warnings: [] }).preflight).toEqual({
      ok: true,
      problems: [],
      warnings: [],
    });
  });

  it('apply would refuse a run with a conflict or a problem, and only then', () => {
    expect(wouldRefuse(0, { builds: [], problems: [], warnings: ['w'] })).toBe(false);
    expect(wouldRefuse(1, { builds: [], problems: [], warnings: [] })).toBe(true);
    expect(wouldRefuse(0, check)).toBe(true);
  });
});
