import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentctlError, type OptIn } from '../../src/errors.js';
import { init } from '../../src/ops/init.js';
import { sinceSeconds } from '../../src/ops/logs.js';
import { resolveTargets } from '../../src/reconcile/target.js';
import { cliHint } from '../../src/render/hints.js';
import { planToJson, renderPlan } from '../../src/render/plan-text.js';
import type { Plan } from '../../src/types.js';
import { desired, observed, spec } from '../helpers/specs.js';

// A library caller sets options, not flags: its messages never name a command-line flag. The CLI says
// which flag sets the option the error names (optIn), and only the CLI.
const FLAG = /(^|\s|\()--[a-z]/;

function thrown(f: () => unknown): AgentctlError {
  try {
    f();
  } catch (err) {
    if (err instanceof AgentctlError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

const dir = mkdtempSync(path.join(tmpdir(), 'agentctl-messages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('library messages name no flag; the CLI hint does', () => {
  const existing = path.join(dir, 'agents.yaml');
  writeFileSync(existing, 'version: 1\n');
  const cases: [string, () => unknown, OptIn | undefined, RegExp | undefined][] = [
    ['init over an existing file', () => init(existing), 'force', /--force/],
    ['a logs since that is no time', () => sinceSeconds('yesterday'), undefined, undefined],
    ['a logs until that is no time', () => sinceSeconds('nope', 'until'), undefined, undefined],
    [
      'a target that names no agent',
      () => resolveTargets(['nope'], desired([spec('a')]), observed([])),
      undefined,
      undefined,
    ],
  ];
  it.each(cases)('%s', (_name, f, optIn, flag) => {
    const e = thrown(f);
    expect(e.message).not.toMatch(FLAG);
    expect(e.optIn).toBe(optIn);
    if (flag) expect(cliHint(e.optIn)).toMatch(flag);
  });

  const every: OptIn[] = [
    'force',
    'allowMassPrune',
    'allowEmpty',
    'allowForeignPrune',
    'allowForeignChange',
    'project',
    'engineTimeout',
    'adopt',
    'migrate',
    'engine',
    'migrateOrEngine',
  ];
  it.each(every)('the CLI names a flag for %s', (optIn) => {
    expect(cliHint(optIn)).toMatch(/--[a-z]/);
  });

  it("a conflict's opt-in becomes the diff's hint (text) and its optIn (JSON), not part of its message", () => {
    const p: Plan = {
      project: 'p',
      actions: [],
      unchanged: [],
      conflicts: [
        {
          agentId: 'b1',
          engine: 'b',
          name: 'c-b1',
          containerId: 'x',
          message: 'moving it copies its /mnt',
          optIn: 'migrate',
        },
      ],
    };
    expect(renderPlan(p).split('\n')).toContain(
      '  ! b1: moving it copies its /mnt (apply --migrate does it)',
    );
    expect((planToJson(p) as { conflicts: unknown[] }).conflicts).toEqual([
      expect.objectContaining({ message: 'moving it copies its /mnt', optIn: 'migrate' }),
    ]);
  });
});
