/**
 * Code (AgentManager.createAgent, runAgent) meeting an agent a file manages (its container records the
 * agents.yaml that applied it, and the file is still there): refused with a FileManagedAgentError naming
 * the file and the agent, nothing changed; createAgent's `adopt` takes it over. Real engine.
 */
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileManagedAgentError } from '../../src/errors.js';
import { LABEL } from '../../src/labels.js';
import { AgentManager } from '../../src/ops/agent-manager.js';
import { runAgent } from '../../src/ops/run.js';
import { inspect, TEST_IMAGE } from '../helpers/docker.js';
import { appliedProject, type TestProject } from '../helpers/project.js';

const MiB = 1024 ** 2;

describe('an agent a file manages, met from code (real engine)', () => {
  const projects: TestProject[] = [];
  afterEach(() => {
    for (const p of projects.splice(0)) p.cleanup();
  });

  it('createAgent and run refuse it naming the file; adopt takes it over', async () => {
    const p = await appliedProject(projects, 'i8fm', 'agents:\n  a: {}');
    const file = realpathSync(p.file);
    const name = `${p.prefix}a`;
    const before = inspect(name);
    expect(before.Config.Labels[LABEL.file]).toBe(file);

    const mgr = new AgentManager({
      project: p.project,
      runtimeDir: path.join(p.dir, 'runtime'),
      namePrefix: p.prefix,
    });
    const fields = { id: 'a', image: TEST_IMAGE, network: 'none', memory: '96m' };
    const refused = await mgr.createAgent(fields).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FileManagedAgentError);
    expect(refused).toMatchObject({ kind: 'unsafe', agent: 'a', file, optIn: 'adopt' });
    expect((refused as Error).message).toContain(`agent a of project "${p.project}" is managed by ${file}`);
    expect((refused as Error).message).not.toMatch(/agentctl |--/);
    expect(inspect(name)).toMatchObject({ Id: before.Id, HostConfig: { Memory: 64 * MiB } });

    // run never replaces an agent: refused the same way, with nothing to opt into.
    const ran = await runAgent({
      id: 'a',
      project: p.project,
      runtimeDir: path.join(p.dir, 'runtime'),
      namePrefix: p.prefix,
      image: TEST_IMAGE,
      network: 'none',
    }).catch((e: unknown) => e);
    expect(ran).toBeInstanceOf(FileManagedAgentError);
    expect((ran as FileManagedAgentError).optIn).toBeUndefined();
    expect(inspect(name).Id).toBe(before.Id);

    // adopt: converged to the call's fields. memory alone would be changed in place, which keeps the
    // container and so its label: adopt recreates it instead, the new container records no file, and the
    // agent's working directory is kept.
    const notes = path.join(p.dir, 'runtime', 'agent-working-directory', 'a', 'notes.txt');
    writeFileSync(notes, 'kept\n');
    await mgr.createAgent(fields, { adopt: true });
    const after = inspect(name);
    expect(after.Id).not.toBe(before.Id);
    expect(after.HostConfig.Memory).toBe(96 * MiB);
    expect(after.Config.Labels[LABEL.file]).toBeUndefined();
    expect(readFileSync(notes, 'utf8')).toBe('kept\n');
    // Now the code's: createAgent converges it without adopt, and adopt of an agent no file records has
    // nothing to take over (kept as it is).
    await mgr.createAgent({ ...fields, memory: '80m' });
    expect(inspect(name)).toMatchObject({ Id: after.Id, HostConfig: { Memory: 80 * MiB } });
    await mgr.createAgent({ ...fields, memory: '80m' }, { adopt: true });
    expect(inspect(name).Id).toBe(after.Id);
  });
});
