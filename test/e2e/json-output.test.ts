/**
 * Every `-o json` output checked against its documented shape in schemas/output/, on real output of the
 * built binary: success and failure, with and without the engine.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { shape } from '../helpers/output-schema.js';
import { type TestProject, testProject } from '../helpers/project.js';

const json = (stdout: string): unknown => JSON.parse(stdout);

describe('-o json output matches schemas/output (real binary)', () => {
  let p: TestProject | undefined;
  afterEach(() => p?.cleanup());

  it('validate: a valid file, and an invalid one as error.json on stdout with its positions', async () => {
    p = testProject('json8');
    p.write('agents:\n  w: { replicas: 10 }\n  a: { network: host }');
    const ok = await agentctlAsync(['validate', '-o', 'json'], { cwd: p.dir });
    expect(ok.status).toBe(0);
    shape('validate')(json(ok.stdout));
    expect((json(ok.stdout) as { agents: string[] }).agents.slice(0, 4)).toEqual(['a', 'w-1', 'w-2', 'w-3']);

    writeFileSync(p.file, 'version: 1\nagents:\n  a: { memroy: 1g }\n  b: { image: "${IMG}" }\n');
    for (const command of ['validate', 'diff', 'apply', 'ps']) {
      const bad = await agentctlAsync([command, '-f', p.file, '-o', 'json'], { cwd: p.dir });
      expect(bad.status, command).toBe(1);
      const out = json(bad.stdout);
      shape('error')(out);
      expect(out).toEqual({
        error: {
          kind: 'config',
          message: expect.stringContaining(`${p.file}:3:8: agents.a: unknown field "memroy"`),
          optIn: null,
          exitCode: 1,
          problems: [
            {
              file: p.file,
              line: 3,
              col: 8,
              message: 'agents.a: unknown field "memroy"; did you mean "memory"?',
            },
            {
              file: p.file,
              line: 4,
              col: 15,
              message: expect.stringMatching(/^agents\.b\.image: invalid image reference "\$\{IMG\}"/),
            },
          ],
        },
      });
      expect(bad.stderr).toMatch(/unknown field "memroy"/);
    }
  });

  it('diff with an image to build and a preflight problem: builds and preflight', async () => {
    p = testProject('json8b');
    mkdirSync(path.join(p.dir, 'ctx'));
    writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), 'FROM scratch\n');
    const net = `${p.project}-none`;
    p.write(
      `agents:\n  a:\n    image: ${p.project}-img:1\n    build: { context: ./ctx }\n    network: ${net}`,
    );
    const d = await agentctlAsync(['diff', '-o', 'json'], { cwd: p.dir });
    expect(d.status, d.stderr).toBe(1);
    const out = json(d.stdout);
    shape('diff')(out);
    expect(out).toMatchObject({
      builds: [{ image: `${p.project}-img:1`, agents: ['a'], reason: 'missing' }],
      preflight: { ok: false, problems: [{ agents: ['a'], optIn: null }] },
    });
  });

  it('diff, apply, ps, inspect and stats of a running fleet', async () => {
    p = testProject('json8e');
    p.write('agents:\n  w: { replicas: 2 }', '  network: none');
    const cwd = p.dir;
    const diff = await agentctlAsync(['diff', '-o', 'json'], { cwd });
    expect(diff.status, diff.stderr).toBe(2);
    shape('diff')(json(diff.stdout));

    const apply = await agentctlAsync(['apply', '-o', 'json'], { cwd });
    expect(apply.status, apply.stderr).toBe(0);
    shape('apply')(json(apply.stdout));

    writeFileSync(p.file, readFileSync(p.file, 'utf8').replace('cpus: 0.5', 'cpus: 0.25'));
    const update = await agentctlAsync(['diff', '-o', 'json'], { cwd });
    shape('diff')(json(update.stdout));
    const changes = (json(update.stdout) as { actions: { changes: unknown[] }[] }).actions[0]?.changes;
    expect(changes).toContainEqual({ path: 'cpus', before: 0.5, after: 0.25 });

    const ps = await agentctlAsync(['ps', '-o', 'json'], { cwd });
    expect(ps.status, ps.stderr).toBe(0);
    shape('ps')(json(ps.stdout));
    expect(json(ps.stdout)).toMatchObject([
      { project: p.project, agent: 'w-1', cpus: 0.5, declared: true, engine: 'local', stray: false },
      { project: p.project, agent: 'w-2', cpus: 0.5, declared: true, homeEngine: 'local', unreachable: null },
    ]);
    const psAll = await agentctlAsync(['ps', '--project', p.project, '-o', 'json'], { cwd: '/' });
    shape('ps')(json(psAll.stdout));
    expect(json(psAll.stdout)).toMatchObject([
      { declared: null, engine: 'local', homeEngine: null, stray: null },
      { declared: null },
    ]);

    const inspect = await agentctlAsync(['inspect', 'w-1', '-o', 'json'], { cwd });
    expect(inspect.status, inspect.stderr).toBe(0);
    shape('inspect')(json(inspect.stdout));
    expect(json(inspect.stdout)).toMatchObject({ limits: { cpus: 0.5 }, exitCode: null, finishedAt: null });
    expect(JSON.stringify(json(inspect.stdout))).not.toMatch(/nanoCpus/i);

    const stats = await agentctlAsync(['stats', '--no-stream', '-o', 'json'], { cwd });
    expect(stats.status, stats.stderr).toBe(0);
    shape('stats')(json(stats.stdout));
    expect((json(stats.stdout) as { project: string }[]).map((r) => r.project)).toEqual([
      p.project,
      p.project,
    ]);

    const missing = await agentctlAsync(['inspect', 'nope', '-o', 'json'], { cwd });
    expect(missing.status).toBe(1);
    shape('error')(json(missing.stdout));
  });
});
