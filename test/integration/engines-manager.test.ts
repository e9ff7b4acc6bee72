/**
 * AgentManager.fromFile of a file with `engines:`: each agent is used on the engine the file pins it to.
 * Two private dockerds (test/helpers/two-engines.ts): A is `local` (passed as the local port), B is
 * engine `b`. Asserts where commands ran by the files they leave on each engine's runtimeDir and by
 * docker inspect on each engine.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { reconcileFleet } from '../../src/fleet/reconcile.js';
import { AgentManager } from '../../src/ops/agent-manager.js';
import type { AgentRow } from '../../src/ops/ps.js';
import { reconcile } from '../../src/ops/reconcile.js';
import { TEST_IMAGE } from '../helpers/docker.js';
import { twoEngines } from '../helpers/two-engines.js';

const PROJECT = `i13-mgr-${process.pid}`;

describe('AgentManager.fromFile over several engines (real dockerds)', () => {
  const t = twoEngines('i13m');
  const agents = ['  x: {}', '  y: { engine: b, command: [sh, -c, "echo y-says-hi; exec sleep 3600"] }'];
  let mgr: AgentManager;
  beforeAll(async () => {
    await t.start();
    writeFileSync(path.join(t.dir, 'agents.yaml'), t.fileText(PROJECT, agents));
    const { report } = await reconcileFleet(t.file(PROJECT, agents), { port: t.localPort });
    expect(report.ok).toBe(true);
    mgr = await AgentManager.fromFile(path.join(t.dir, 'agents.yaml'), { port: t.localPort });
  }, 240_000);
  afterAll(async () => {
    await mgr?.close();
    await t.cleanup();
  }, 120_000);
  const onDisk = (rt: string, id: string, file: string) => path.join(t.workDir(rt, id), file);
  const running = (e: typeof t.a, name: string) => e.docker('inspect', '-f', '{{.State.Running}}', name);

  it('executeCommand runs each agent on its own engine', async () => {
    const y = await mgr.executeCommand('y', 'echo in-y > /mnt/m.txt; hostname');
    expect(y.exitCode).toBe(0);
    expect(y.stdout.trim()).toBe(t.b.docker('inspect', '-f', '{{.Config.Hostname}}', 'claude-agent-y'));
    expect(readFileSync(onDisk(t.rtB(), 'y', 'm.txt'), 'utf8')).toBe('in-y\n');
    const x = await mgr.executeCommand('x', 'echo in-x > /mnt/m.txt');
    expect(x.exitCode).toBe(0);
    expect(readFileSync(onDisk(t.rtA(), 'x', 'm.txt'), 'utf8')).toBe('in-x\n');
    expect(existsSync(onDisk(t.rtA(), 'y', 'm.txt'))).toBe(false);
  }, 60_000);

  it('a session, the editor and logs reach the agent on engine b', async () => {
    const s = await mgr.openSession('y');
    await s.run('cd /mnt && export V=kept');
    const r = await s.run('echo "$V" > from-session.txt; pwd');
    expect(r.stdout.trim()).toBe('/mnt');
    expect(readFileSync(onDisk(t.rtB(), 'y', 'from-session.txt'), 'utf8')).toBe('kept\n');
    await s.close();

    const created = await mgr
      .editor('y')
      .handle({ command: 'create', path: '/mnt/edited.txt', file_text: 'by the editor\n' });
    expect(created.isError).toBe(false);
    expect(readFileSync(onDisk(t.rtB(), 'y', 'edited.txt'), 'utf8')).toBe('by the editor\n');

    const logs = await mgr.getLogs('y');
    expect(logs.stdout).toBe('y-says-hi\n');
  }, 60_000);

  it('listAgents lists every engine, as ps does', async () => {
    const rows = (await mgr.listAgents()) as AgentRow[];
    expect(rows.map((r) => `${r.agent}@${r.engine}:${r.state}`)).toEqual(['x@local:running', 'y@b:running']);
  }, 60_000);

  it('a stray copy is reported, not used; createAgent refuses an agent the file puts on b', async () => {
    // A copy of y on A, as a file without engines makes it.
    const single = parseConfig(
      [
        'version: 1',
        `project: ${PROJECT}`,
        `runtimeDir: ${t.rtA()}`,
        'agents:',
        `  y: { image: ${TEST_IMAGE}, command: [sleep, "3600"], network: none, user: "0" }`,
      ].join('\n'),
      { file: path.join(t.dir, 'one.yaml'), baseDir: t.dir, defaultProject: 'x' },
    );
    expect((await reconcile(single, { port: t.localPort, prune: false })).report.ok).toBe(true);
    // y is still on b, so the copy on A is never what the manager reaches.
    const y = await mgr.executeCommand('y', 'echo again > /mnt/again.txt');
    expect(y.exitCode).toBe(0);
    expect(existsSync(onDisk(t.rtB(), 'y', 'again.txt'))).toBe(true);
    expect(existsSync(onDisk(t.rtA(), 'y', 'again.txt'))).toBe(false);

    await expect(mgr.createAgent({ id: 'y', image: TEST_IMAGE })).rejects.toThrow(
      /agent y: .*agents\.yaml puts it on engine b; an AgentManager creates agents on the local engine only/,
    );
    t.a.docker('rm', '-f', 'claude-agent-y');
  }, 120_000);

  it('stopAgent, startAgent and removeAgent act on engine b only', async () => {
    await mgr.stopAgent('y', { timeoutSeconds: 1 });
    expect(running(t.b, 'claude-agent-y')).toBe('false');
    expect(running(t.a, 'claude-agent-x')).toBe('true');
    await mgr.startAgent('y');
    expect(running(t.b, 'claude-agent-y')).toBe('true');
    await mgr.removeAgent('y', { removeData: true, timeoutSeconds: 1 });
    expect(t.names(t.b, PROJECT)).toEqual([]);
    expect(existsSync(t.workDir(t.rtB(), 'y'))).toBe(false);
    expect(t.names(t.a, PROJECT)).toEqual(['claude-agent-x running']);
    expect(existsSync(t.workDir(t.rtA(), 'x'))).toBe(true);
  }, 60_000);
});
