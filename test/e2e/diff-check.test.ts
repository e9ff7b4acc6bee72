/**
 * diff says what apply will build and what would make apply refuse the run (real binary, real engine):
 * a `build:` agent whose image is missing (exit 2, nothing built), and preflight problems (exit 1, as
 * apply then refuses with the same problems).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { dockerTry, projectContainers, TEST_IMAGE } from '../helpers/docker.js';
import { type TestProject, testProject } from '../helpers/project.js';

interface DiffJson {
  actions: { kind: string; agent: string }[];
  builds: { image: string; context: string; dockerfile: string; agents: string[]; reason: string }[];
  preflight: { ok: boolean; problems: { message: string; agents: string[]; optIn: string | null }[] };
}

describe('diff shows builds and preflight problems (real binary)', () => {
  let p: TestProject | undefined;
  afterEach(() => p?.cleanup());

  it('an image declared with build: that is missing will be built; diff builds nothing', async () => {
    p = testProject('i8diffb');
    const tag = `${p.project}-img:latest`;
    const ctx = path.join(p.dir, 'ctx');
    mkdirSync(ctx);
    writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${TEST_IMAGE}\n`);
    p.write(
      `agents:\n  a:\n    image: ${tag}\n    build: { context: ./ctx }\n  b: { image: ${tag} }`,
      '  network: none',
    );

    const text = await agentctlAsync(['diff'], { cwd: p.dir });
    expect(text.status, text.stderr).toBe(2);
    expect(text.stdout).toContain(`  * image ${tag} will be built from ./ctx  (not on the engine; for a, b)`);
    expect(text.stdout).toContain('+ a will be created');
    expect(text.stdout).not.toContain('apply would refuse');

    const j = await agentctlAsync(['diff', '-o', 'json'], { cwd: p.dir });
    expect(j.status).toBe(2);
    const out = JSON.parse(j.stdout) as DiffJson;
    expect(out.builds).toEqual([
      { image: tag, context: ctx, dockerfile: 'Dockerfile', agents: ['a', 'b'], reason: 'missing' },
    ]);
    // The image it would build is not "missing" to preflight.
    expect(out.preflight).toEqual({ ok: true, problems: [], warnings: [] });
    expect(dockerTry('image', 'inspect', tag).status).not.toBe(0);

    // Once built, nothing to build; with --build, a rebuild.
    expect((await agentctlAsync(['build'], { cwd: p.dir })).status).toBe(0);
    try {
      expect(
        (JSON.parse((await agentctlAsync(['diff', '-o', 'json'], { cwd: p.dir })).stdout) as DiffJson).builds,
      ).toEqual([]);
      const again = JSON.parse(
        (await agentctlAsync(['diff', '--build', '-o', 'json'], { cwd: p.dir })).stdout,
      ) as DiffJson;
      expect(again.builds.map((b) => b.reason)).toEqual(['rebuild']);
    } finally {
      dockerTry('image', 'rm', tag);
    }
  });

  it('a preflight problem: diff exits 1 naming it, as apply then refuses, and nothing changes', async () => {
    p = testProject('i8diffp');
    const net = `${p.project}-no-such-net`;
    p.write(
      `agents:\n  ok: { network: none }\n  bad: { network: ${net} }\n  huge: { network: none, memory: 4096g }`,
    );

    const text = await agentctlAsync(['diff'], { cwd: p.dir });
    expect(text.status, text.stderr).toBe(1);
    expect(text.stdout).toContain('Plan: 3 to create');
    expect(text.stdout).toContain('apply would refuse this run (2 problem(s)), nothing would be changed:');
    expect(text.stdout).toMatch(
      new RegExp(
        `! ${p.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: agent huge: memory 4096g exceeds the engine's`,
      ),
    );
    expect(text.stdout).toContain(`network "${net}" does not exist on the engine (needed by bad;`);

    const j = await agentctlAsync(['diff', '-o', 'json'], { cwd: p.dir });
    expect(j.status).toBe(1);
    const out = JSON.parse(j.stdout) as DiffJson;
    expect(out.preflight.ok).toBe(false);
    expect(out.preflight.problems.map((x) => [x.agents, x.optIn])).toEqual([
      [['huge'], null],
      [['bad'], null],
    ]);

    const apply = await agentctlAsync(['apply', '--wait-ready', '0'], { cwd: p.dir });
    expect(apply.status).toBe(1);
    expect(apply.stderr).toContain('preflight failed, nothing was changed');
    expect(apply.stderr).toContain(`network "${net}" does not exist`);
    expect(projectContainers(p.project)).toEqual([]);
  });
});
