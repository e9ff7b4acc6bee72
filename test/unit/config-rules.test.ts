import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ADDABLE_CAPABILITIES,
  addCapabilityProblem,
  normalizeCapabilities,
} from '../../src/config/capabilities.js';
import { DEFAULT_AGENT } from '../../src/config/load.js';
import { ID_PATTERN, projectFromDirName } from '../../src/config/rules.js';
import { formatSize, MEMORY_RANGE, parseSize, sizeProblem } from '../../src/config/units.js';

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

type JsonSchema = Record<string, unknown>;
const schema = JSON.parse(
  readFileSync(new URL('../../schemas/agents.schema.json', import.meta.url), 'utf8'),
) as JsonSchema;
const definitions = schema.definitions as Record<string, JsonSchema>;

/** Every subschema, with a readable path. */
function* subschemas(node: unknown, path = '#'): Generator<[string, JsonSchema]> {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
  yield [path, node as JsonSchema];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' || key === 'definitions') {
      for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
        yield* subschemas(child, `${path}/${key}/${name}`);
      }
    } else if (['items', 'additionalProperties', 'propertyNames', 'not'].includes(key)) {
      yield* subschemas(value, `${path}/${key}`);
    }
  }
}

describe('sizes', () => {
  it.each<[unknown, number | undefined]>([
    ['512m', 512 * MiB],
    ['2g', 2 * GiB],
    ['2G', 2 * GiB],
    ['100k', 100 * KiB],
    ['1.5g', 1.5 * GiB],
    ['1.3m', Math.floor(1.3 * MiB)],
    ['1024b', 1024],
    ['1024', 1024],
    [1073741824, GiB],
    [0, 0],
    ['lots', undefined],
    ['-1g', undefined],
    ['1e99', undefined],
    ['', undefined],
    ['1.5', undefined],
    ['1.5b', undefined],
    ['512mb', undefined],
    ['1t', undefined],
    [' 1g', undefined],
    [1.5, undefined],
    [-1, undefined],
    [Infinity, undefined],
    [NaN, undefined],
    [null, undefined],
  ])('parseSize(%j) = %j', (value, bytes) => {
    expect(parseSize(value)).toBe(bytes);
  });

  it.each<[unknown, string | undefined]>([
    ['6m', undefined],
    ['2g', undefined],
    ['1024g', undefined],
    [0, "must be at least 6m (Docker's minimum), got 0"],
    ['6291455', 'must be at least 6m (Docker\'s minimum), got "6291455"'],
    ['2000000g', 'must be at most 1 PiB, got "2000000g"'],
    [1e99, 'must be at most 1 PiB, got 1e+99'],
    ['9'.repeat(400), `must be at most 1 PiB, got "${'9'.repeat(57)}..."`],
    ['lots', 'expected a size like 512m or 2g, got "lots"'],
  ])('as memory, %j: %s', (value, problem) => {
    expect(sizeProblem(value, MEMORY_RANGE)).toBe(problem);
  });

  it.each([
    [100 * MiB, '100m'],
    [1.5 * GiB, '1536m'],
    [2 * GiB, '2g'],
    [4 * KiB, '4k'],
    [1000, '1000'],
    [1, '1'],
  ])('formatSize(%d) = %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it('match the schema pattern', () => {
    const pattern = new RegExp(definitions.size?.pattern as string, 'u');
    for (const text of ['512m', '1.5g', '1024', '1024b', 'lots', '1.5', '1.5b', '-1g', '1e99', '512mb']) {
      expect(pattern.test(text), text).toBe(parseSize(text) !== undefined);
    }
  });
});

describe('capabilities', () => {
  it('normalize names: upper case, no CAP_ prefix, sorted, deduplicated', () => {
    expect(normalizeCapabilities(['cap_setuid', 'CHOWN', 'chown', 'Cap_Kill'])).toEqual([
      'CHOWN',
      'KILL',
      'SETUID',
    ]);
  });

  it("can add exactly Docker's default set, which the schema pattern agrees with", () => {
    const addSchema = (definitions.agent?.properties as Record<string, JsonSchema>).capabilities
      ?.properties as Record<string, JsonSchema>;
    const pattern = new RegExp((addSchema.add?.items as JsonSchema).pattern as string, 'u');
    const candidates = [
      ...ADDABLE_CAPABILITIES,
      'SYS_ADMIN',
      'NET_ADMIN',
      'SYS_PTRACE',
      'DAC_READ_SEARCH',
      'ALL',
      'BOGUS',
    ];
    for (const cap of candidates) {
      for (const spelling of [cap, cap.toLowerCase(), `CAP_${cap}`, `cap_${cap.toLowerCase()}`]) {
        const allowed = addCapabilityProblem(spelling) === undefined;
        expect(allowed, spelling).toBe(ADDABLE_CAPABILITIES.includes(cap));
        expect(pattern.test(spelling), spelling).toBe(allowed);
      }
    }
  });
});

describe('names', () => {
  it.each([
    ['demo', 'demo'],
    ['My Project', 'my-project'],
    ['.hidden_dir', 'hidden_dir'],
    ['__', 'default'],
    ['', 'default'],
    ['ÉTÉ 2024', 't--2024'],
    ['a'.repeat(80), 'a'.repeat(63)],
  ])('the project default for directory %j is %j', (dir, project) => {
    expect(projectFromDirName(dir)).toBe(project);
    expect(projectFromDirName(dir)).toMatch(ID_PATTERN);
  });

  it('use the same id pattern as the schema', () => {
    const properties = schema.properties as Record<string, JsonSchema>;
    expect(properties.project?.pattern).toBe(ID_PATTERN.source);
    expect((properties.agents?.propertyNames as JsonSchema).pattern).toBe(ID_PATTERN.source);
  });
});

describe('the schema', () => {
  it('identifies itself', () => {
    expect(schema).toMatchObject({
      $schema: 'http://json-schema.org/draft-07/schema#',
      $id: expect.any(String),
    });
    expect(schema.title).toEqual(expect.any(String));
  });

  it('describes every property, for editors', () => {
    const undocumented = [...subschemas(schema)]
      .filter(([path, node]) => /\/properties\/[^/]+$/.test(path) && typeof node.description !== 'string')
      .map(([path]) => path);
    expect(undocumented).toEqual([]);
  });

  it('rejects unknown fields wherever fields are fixed', () => {
    const open = [...subschemas(schema)]
      .filter(([, node]) => node.properties !== undefined && node.additionalProperties !== false)
      .map(([path]) => path);
    expect(open).toEqual([]);
  });

  it('has an entry for every field the defaults table sets, and no way to ask for privileges', () => {
    const fields = Object.keys(definitions.agent?.properties as JsonSchema);
    expect(fields).toEqual(expect.arrayContaining(Object.keys(DEFAULT_AGENT)));
    for (const refused of [
      'privileged',
      'devices',
      'volumes',
      'mounts',
      'binds',
      'pid',
      'ipc',
      'securityOpt',
    ]) {
      expect(fields).not.toContain(refused);
    }
  });
});

describe('the compiled validator', () => {
  const source = readFileSync(new URL('../../src/config/compiled-validator.ts', import.meta.url), 'utf8');

  it('is marked as generated and needs no ajv at runtime', () => {
    expect(source.split('\n')[0]).toBe('// @ts-nocheck');
    expect(source).toMatch(/GENERATED/);
    expect(source).not.toMatch(/\brequire\(|from ["']ajv/);
  });

  it('loads as a plain ES module and validates', async () => {
    const url = `data:text/javascript;base64,${Buffer.from(source).toString('base64')}`;
    const { default: validate } = (await import(/* @vite-ignore */ url)) as {
      default: (data: unknown) => boolean;
    };
    expect(validate({ version: 1, defaults: DEFAULT_AGENT, agents: { a: {} } })).toBe(true);
    expect(validate({ version: 1, agents: { a: { privileged: true } } })).toBe(false);
  });
});
