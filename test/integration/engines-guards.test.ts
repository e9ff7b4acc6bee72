/**
 * Fleet apply (a file with `engines:`) runs the same guards, warnings and settle wait as one-engine
 * apply, because it calls the same functions (ops/engine-part.ts). Against two private dockerds
 * (test/helpers/two-engines.ts): the file label on what it creates on each engine, another file's agents
 * refused on both engines, a truncated file refused, the settle wait failing a crash-looping agent on
 * engine b, and the disk warning naming the engine.
 */
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { AgentctlError } from '../../src/errors.js';
import { reconcileFleet } from '../../src/fleet/reconcile.js';
import { twoEngines } from '../helpers/two-engines.js';

const PROJECT = `i13-guards-${process.pid}`;

describe('fleet apply runs the one-engine guards on every engine (real dockerds)', () => {
  const t = twoEngines('i13g');
  beforeAll(t.start, 180_000);
  afterAll(t.cleanup, 120_000);

  /** Writes `dir/agents.yaml` (default: the helper's directory) and loads it as the CLI does. */
  async function write(agents: string[], dir?: string) {
    const d = dir ?? t.dir;
    mkdirSync(d, { recursive: true });
    const file = path.join(d, 'agents.yaml');
    writeFileSync(file, t.fileText(PROJECT, agents));
    return { file, desired: await loadConfig(file) };
  }
  const label = (e: typeof t.a, name: string) =>
    e.docker('inspect', '-f', '{{index .Config.Labels "agentctl.file"}}', name);

  it('labels each agent, on either engine, with the file that created it', async () => {
    const { file, desired } = await write(['  x: {}', '  y: { engine: b }', '  w: { engine: b }']);
    const { report } = await reconcileFleet(desired, { port: t.localPort });
    expect(report.ok).toBe(true);
    expect(label(t.a, 'claude-agent-x')).toBe(realpathSync(file));
    expect(label(t.b, 'claude-agent-y')).toBe(realpathSync(file));
    expect(label(t.b, 'claude-agent-w')).toBe(realpathSync(file));
  }, 120_000);

  it("refuses a second file's prune and change of the first file's agents on both engines", async () => {
    const before = [t.names(t.a, PROJECT), t.names(t.b, PROJECT)];
    const first = realpathSync(path.join(t.dir, 'agents.yaml'));
    // Declares y differently (a change on b), not x or w (prunes on a and b), and a new agent z.
    const { desired } = await write(
      ['  y: { engine: b, memory: 96m }', '  z: { engine: b }'],
      path.join(t.dir, 'other'),
    );
    const err = await reconcileFleet(desired, { port: t.localPort }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentctlError);
    expect((err as AgentctlError).kind).toBe('unsafe');
    expect((err as AgentctlError).message).toContain(
      `would remove 2 agent(s) created by ${first} (w, x); another file names project`,
    );
    // The library names the option, not a CLI flag; the CLI turns it into --allow-foreign-prune.
    expect((err as AgentctlError).optIn).toBe('allowForeignPrune');
    expect((err as AgentctlError).message).not.toMatch(/--allow/);
    expect((err as AgentctlError).details.join('\n')).toContain(
      `would change 1 agent(s) created by ${first} (y)`,
    );
    // Nothing changed anywhere: z was not created either.
    expect([t.names(t.a, PROJECT), t.names(t.b, PROJECT)]).toEqual(before);
    expect(t.b.docker('inspect', '-f', '{{.HostConfig.Memory}}', 'claude-agent-y')).not.toBe(
      String(96 * 2 ** 20),
    );
  }, 120_000);

  it('refuses a truncated file that would prune most of the fleet across engines', async () => {
    const before = [t.names(t.a, PROJECT), t.names(t.b, PROJECT)];
    const { desired } = await write(['  x: {}']);
    const err = await reconcileFleet(desired, { port: t.localPort }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentctlError);
    expect((err as AgentctlError).message).toMatch(
      /would remove 2 of the project's 3 agents \(w, y\); a truncated or half-saved file looks like this, so nothing was changed/,
    );
    expect((err as AgentctlError).optIn).toBe('allowMassPrune');
    expect([t.names(t.a, PROJECT), t.names(t.b, PROJECT)]).toEqual(before);
  }, 120_000);

  it('warns, naming the engine, when a no-op run finds a runtime directory short of space', async () => {
    const { desired } = await write(['  x: {}', '  y: { engine: b }', '  w: { engine: b }']);
    const warnings: string[] = [];
    const huge = { bytes: 2 ** 60, inodes: 0, bytesFrom: '--min-free', inodesFrom: '--min-free-inodes' };
    const { report } = await reconcileFleet(desired, {
      port: t.localPort,
      minFree: huge,
      onHostWarning: (w) => warnings.push(w),
    });
    expect(report.results).toEqual([]);
    expect(warnings.sort()).toEqual([
      expect.stringMatching(
        /^engine b: runtime directory: the filesystem of .* has only .* free \(minimum .*, --min-free\); this run creates nothing/,
      ),
      expect.stringMatching(/^runtime directory: the filesystem of .* has only .* free/),
    ]);
  }, 120_000);

  it('fails apply for an agent crash-looping on engine b after the settle wait, saying it waits once', async () => {
    const { desired } = await write([
      '  x: {}',
      '  y: { engine: b }',
      '  w: { engine: b }',
      '  crash: { engine: b, command: [sh, -c, "echo going down; exit 3"] }',
    ]);
    const waits: number[] = [];
    const { report } = await reconcileFleet(desired, {
      port: t.localPort,
      waitReadyMs: 2000,
      onSettleWait: (n) => waits.push(n),
    });
    expect(report.ok).toBe(false);
    expect(waits).toEqual([1]);
    const crash = report.results.find((r) => r.action.agentId === 'crash');
    expect(crash?.action.engine).toBe('b');
    expect(crash?.ok).toBe(false);
    expect(crash?.notReady).toBe(true);
    expect(crash?.error).toMatch(/restart-looping|did not stay up/);
    expect(crash?.error).toContain('going down');
    expect(t.names(t.b, PROJECT).filter((n) => n.startsWith('claude-agent-crash '))).toHaveLength(1);
    expect(t.names(t.a, PROJECT)).toEqual(['claude-agent-x running']);
  }, 120_000);
});
