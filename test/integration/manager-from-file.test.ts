/**
 * AgentManager.fromFile attaches code to a fleet an agents file declares (applied by `apply`), and
 * listAgents() lists it as ps does. Real engine: the rows are checked against docker inspect, and a
 * command run through the manager leaves its file in the agent's working directory on disk.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentManager } from '../../src/ops/agent-manager.js';
import type { AgentRow } from '../../src/ops/ps.js';
import { inspect } from '../helpers/docker.js';
import { appliedProject, type TestProject } from '../helpers/project.js';

describe('AgentManager.fromFile (real engine)', () => {
  const projects: TestProject[] = [];
  afterEach(() => {
    for (const p of projects.splice(0)) p.cleanup();
  });

  it("attaches to the file's project: listAgents as ps, commands by the file's agent ids", async () => {
    const p = await appliedProject(projects, 'i8mf', 'agents:\n  b: {}\n  a: {}');
    // Declared but never applied: listed as missing, as ps does.
    writeFileSync(p.file, readFileSync(p.file, 'utf8').replace('  a: {}', '  a: {}\n  c: {}'));

    const mgr = await AgentManager.fromFile(p.file);
    expect([mgr.project, mgr.namePrefix, mgr.runtimeDir]).toEqual([
      p.project,
      p.prefix,
      path.join(p.dir, 'runtime'),
    ]);
    const rows = (await mgr.listAgents()) as AgentRow[];
    expect(rows.map((r) => [r.agent, r.state])).toEqual([
      ['a', 'running'],
      ['b', 'running'],
      ['c', 'missing'],
    ]);
    expect(rows[0]?.container).toBe(`${p.prefix}a`);
    expect(inspect(`${p.prefix}a`).State.Running).toBe(true);

    const r = await mgr.executeCommand('a', 'echo from-code > /mnt/hello && cat /mnt/hello');
    expect([r.exitCode, r.stdout]).toEqual([0, 'from-code\n']);
    expect(readFileSync(path.join(p.workDir('a'), 'hello'), 'utf8')).toBe('from-code\n');
    await mgr.close();
  });

  it('a bad file is refused with its position; without a file, listAgents lists the project', async () => {
    const p = await appliedProject(projects, 'i8mf', 'agents:\n  a: {}');
    const plain = new AgentManager({ project: p.project });
    const listed = await plain.listAgents();
    expect(listed.map((r) => [r.agent, r.state])).toEqual([['a', 'running']]);

    writeFileSync(p.file, readFileSync(p.file, 'utf8').replace('  a: {}', '  a: { memroy: 1g }'));
    const err = await AgentManager.fromFile(p.file).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'config' });
    expect((err as Error).message).toMatch(/agents\.yaml:\d+:\d+/);
    expect((err as Error).message).toContain('memory');
  });
});
