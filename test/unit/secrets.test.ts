import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { AgentctlError } from '../../src/errors.js';
import { plan } from '../../src/reconcile/plan.js';
import { renderPlan, planToJson } from '../../src/render/plan-text.js';
import { digestKeyPath, loadDigestKey, secretDigest } from '../../src/secrets/digest-key.js';
import { resolveSecrets, unresolvedSecrets } from '../../src/secrets/resolve.js';
import { SecretValues } from '../../src/secrets/values.js';
import { canonicalJson, hashedPart, specHash } from '../../src/spec-hash.js';
import type { AgentSpec, DesiredState } from '../../src/types.js';
import { container, desired, observed, spec } from '../helpers/specs.js';

const VALUE = 'sk-test-7f3a9c-never-print-me';

function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentctl-secrets-unit-'));
  await writeFile(join(dir, 'db.txt'), `${VALUE}-file\n`);
  await writeFile(join(dir, 'empty.txt'), '\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function parse(text: string): DesiredState {
  return parseConfig(text, { file: join(dir, 'agents.yaml'), baseDir: dir, defaultProject: 'demo' });
}

const FLEET = yaml(
  'version: 1',
  'defaults:',
  '  env: { TOKEN: plain-default, MODE: x }',
  'agents:',
  '  coder:',
  '    env:',
  '      TOKEN: { fromEnv: I11_TOKEN }',
  '      DB: { fromFile: ./db.txt }',
  '  worker: { replicas: 2 }',
);

describe('secrets in the config', () => {
  it('keeps references out of env, replaces lower layers, and records where they are written', () => {
    const state = parse(FLEET);
    const coder = state.agents.find((a) => a.id === 'coder') as AgentSpec;
    expect(coder.env).not.toHaveProperty('TOKEN');
    expect(coder.env.MODE).toBe('x');
    expect(coder.secretEnv).toEqual({
      DB: { ref: 'fromFile:./db.txt' },
      TOKEN: { ref: 'fromEnv:I11_TOKEN' },
    });
    expect(
      state.secrets?.map((s) => [s.agentId, s.key, s.fromEnv ?? s.fromFile, s.pos.line, s.where]),
    ).toEqual([
      ['coder', 'DB', join(dir, 'db.txt'), 8, 'agents.coder.env.DB'],
      ['coder', 'TOKEN', 'I11_TOKEN', 7, 'agents.coder.env.TOKEN'],
    ]);
    // An agent without secrets has no secretEnv at all: its hash is what it was before secrets existed.
    const worker = state.agents.find((a) => a.id === 'worker-1') as AgentSpec;
    expect(worker).not.toHaveProperty('secretEnv');
    expect(worker.env.TOKEN).toBe('plain-default');
  });
});

describe('resolveSecrets', () => {
  const key = Buffer.alloc(32, 7);

  it('puts keyed digests into the specs and the values only into SecretValues', async () => {
    const { desired: resolved, values } = await resolveSecrets(parse(FLEET), key, { I11_TOKEN: VALUE });
    const coder = resolved.agents.find((a) => a.id === 'coder') as AgentSpec;
    expect(coder.secretEnv?.TOKEN?.digest).toBe(secretDigest(key, VALUE));
    expect(coder.secretEnv?.DB?.digest).toBe(secretDigest(key, `${VALUE}-file`));
    expect(values.envOf('coder', ['DB', 'TOKEN'])).toEqual([`DB=${VALUE}-file`, `TOKEN=${VALUE}`]);
    // Nothing that is printed, hashed or labelled carries the value.
    const printed = [
      JSON.stringify(resolved),
      canonicalJson(hashedPart(coder)),
      JSON.stringify(values),
      String(values),
      inspect(values, { depth: 5 }),
      inspect({ values }, { showHidden: true, depth: 5 }),
    ];
    for (const text of printed) expect(text).not.toContain(VALUE);
  });

  it('a digest depends on the key: the same value under another project key differs', () => {
    expect(secretDigest(key, VALUE)).not.toBe(secretDigest(Buffer.alloc(32, 8), VALUE));
    expect(secretDigest(key, VALUE)).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
  });

  const unresolvable: [string, string, RegExp][] = [
    [
      'an unset variable',
      'X: { fromEnv: I11_UNSET }',
      /:5:10: agents\.a\.env\.X: fromEnv:I11_UNSET: I11_UNSET is not set/,
    ],
    [
      'an empty variable',
      'X: { fromEnv: I11_EMPTY }',
      /:5:10: agents\.a\.env\.X: fromEnv:I11_EMPTY: I11_EMPTY is empty/,
    ],
    [
      'a missing file',
      'X: { fromFile: ./nope.txt }',
      /:5:10: agents\.a\.env\.X: fromFile:\.\/nope\.txt: .*nope\.txt: no such file/,
    ],
    ['an empty file', 'X: { fromFile: ./empty.txt }', /:5:10: .*empty\.txt is empty/],
    ['a directory', 'X: { fromFile: . }', /:5:10: .*is not a regular file/],
  ];
  it.each(unresolvable)(
    '%s is a config error naming the reference at file:line:col',
    async (_n, entry, message) => {
      const state = parse(yaml('version: 1', 'agents:', '  a:', '    env:', `      ${entry}`));
      const err = await resolveSecrets(state, key, { I11_EMPTY: '' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AgentctlError);
      expect((err as AgentctlError).kind).toBe('config');
      expect((err as AgentctlError).message).toMatch(/nothing was changed/);
      expect((err as AgentctlError).message).toMatch(
        new RegExp(`${join(dir, 'agents.yaml').replace(/\./g, '\\.')}${message.source}`),
      );
      expect(await unresolvedSecrets(state, { I11_EMPTY: '' })).toHaveLength(1);
    },
  );

  it('lists every unresolvable reference once, even when replicas share it', async () => {
    const state = parse(
      yaml(
        'version: 1',
        'agents:',
        '  w:',
        '    replicas: 3',
        '    env: { A: { fromEnv: I11_A }, B: { fromEnv: I11_B } }',
      ),
    );
    const err = (await resolveSecrets(state, key, {}).catch((e: unknown) => e)) as AgentctlError;
    expect(err.message).toMatch(/^2 secret references cannot be resolved/);
    expect(err.details).toHaveLength(1);
  });
});

describe('secrets in a plan', () => {
  const key = Buffer.alloc(32, 1);
  const withSecret = (value: string, ref = 'fromEnv:K'): AgentSpec =>
    spec('a', { secretEnv: { K: { ref, digest: secretDigest(key, value) } } });

  const cases: { name: string; before: AgentSpec; after: AgentSpec; change?: [unknown, unknown] }[] = [
    { name: 'unchanged secret: nothing to do', before: withSecret(VALUE), after: withSecret(VALUE) },
    {
      name: 'changed secret',
      before: withSecret(VALUE),
      after: withSecret(`${VALUE}2`),
      change: ['(secret)', '(secret changed)'],
    },
    {
      name: 'plain value becomes a secret',
      before: spec('a', { env: { ...spec('a').env, K: 'plain' } }),
      after: withSecret(VALUE),
      change: ['plain', '(secret)'],
    },
    {
      name: 'secret becomes plain',
      before: withSecret(VALUE),
      after: spec('a', { env: { ...spec('a').env, K: 'plain' } }),
      change: ['(secret)', 'plain'],
    },
    {
      name: 'same value, other reference',
      before: withSecret(VALUE),
      after: withSecret(VALUE, 'fromEnv:OTHER'),
      change: ['(secret)', '(secret)'],
    },
  ];
  it.each(cases)('$name', ({ before, after, change }) => {
    const p = plan(desired([after]), observed([container(before)]));
    if (!change) {
      expect(p.actions).toEqual([]);
      return;
    }
    expect(specHash(before)).not.toBe(specHash(after));
    expect(p.actions.map((a) => a.kind)).toEqual(['recreate']);
    const action = p.actions[0];
    const changes = action && 'changes' in action ? action.changes : [];
    expect(changes).toEqual([{ path: 'env.K', before: change[0], after: change[1] }]);
    const text = renderPlan(p);
    expect(text).toContain(
      `env.K: ${change[0] === 'plain' ? '"plain"' : change[0]} -> ${change[1] === 'plain' ? '"plain"' : change[1]}`,
    );
    expect(text + JSON.stringify(planToJson(p))).not.toMatch(/hmac-sha256/);
  });
});

describe('the digest key', () => {
  it('is made 0600 on first apply, kept, and never made by a dry run', async () => {
    const runtimeDir = join(dir, 'rt');
    const throwaway = await loadDigestKey(runtimeDir, 'p', { create: false });
    expect(throwaway).toHaveLength(32);
    await expect(stat(digestKeyPath(runtimeDir, 'p'))).rejects.toThrow();
    const made = await loadDigestKey(runtimeDir, 'p', { create: true });
    expect((await stat(digestKeyPath(runtimeDir, 'p'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(runtimeDir, '.agentctl', 'p'))).mode & 0o777).toBe(0o700);
    expect(await loadDigestKey(runtimeDir, 'p', { create: true })).toEqual(made);
    expect(await loadDigestKey(runtimeDir, 'p', { create: false })).toEqual(made);
  });

  it('refuses a key file others can read', async () => {
    const runtimeDir = join(dir, 'rt2');
    await loadDigestKey(runtimeDir, 'p', { create: true });
    const { chmod } = await import('node:fs/promises');
    await chmod(digestKeyPath(runtimeDir, 'p'), 0o644);
    await expect(loadDigestKey(runtimeDir, 'p', { create: true })).rejects.toThrow(/mode 0600/);
  });
});

describe('SecretValues', () => {
  it('refuses to hand out a value that was never resolved', () => {
    expect(() => new SecretValues().envOf('a', ['K'])).toThrow(/not resolved/);
  });
});
