/** The CLI's cache of parsed files: a kept parse is the parse, and nothing else is ever taken for one. */
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import type { NormalizeOptions } from '../../src/config/normalize.js';
import { cacheDir, fileParseCache } from '../../src/config/parse-cache.js';

const EXAMPLE = readFileSync('examples/agents.yaml', 'utf8');
const ENGINES = readFileSync('test/fixtures/kubernetes/agents.yaml', 'utf8');
/** Replicas, secrets, an engine, a build, a warning (no agents run init: false without a probe). */
const BUSY = `version: 1
project: busy
engines:
  far: { host: "ssh://agent@far.example", runtimeDir: /srv/agents }
defaults:
  image: img:1
  env: { TOKEN: { fromEnv: TOKEN }, PLAIN: "x" }
agents:
  w: { replicas: 40, memory: 64m }
  far: { engine: far, init: false }
  built: { image: built:1, build: { context: ./ctx, args: { A: "1" } } }
`;

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'agentctl-parse-cache-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const at = (file: string): NormalizeOptions => ({
  file,
  baseDir: path.dirname(file),
  defaultProject: 'proj',
});

describe('a kept parse', () => {
  it.each([
    ['the example file', EXAMPLE],
    ['a file with engines', ENGINES],
    ['replicas, secrets, engines, builds and warnings', BUSY],
  ])('of %s is exactly the parse', async (_what, text) => {
    const cache = fileParseCache(path.join(tmp, 'c'), 'build-1');
    const opts = at('/srv/fleet/agents.yaml');
    const fresh = parseConfig(text, opts);
    await cache.put(text, opts, fresh);
    // JSON keeps no undefined-valued keys, no Maps, no shared objects: strict equality says none mattered.
    expect(await cache.get(text, opts)).toStrictEqual(fresh);
  });

  it.each([
    ['another byte', (t: string) => `${t}\n`, at('/srv/fleet/agents.yaml'), 'build-1'],
    ['another build of agentctl', (t: string) => t, at('/srv/fleet/agents.yaml'), 'build-2'],
    ['the same bytes at another path', (t: string) => t, at('/srv/other/agents.yaml'), 'build-1'],
    [
      'another default project (the directory name)',
      (t: string) => t,
      { ...at('/srv/fleet/agents.yaml'), defaultProject: 'other' },
      'build-1',
    ],
  ])('is not used for %s', async (_what, change, opts, build) => {
    const dir = path.join(tmp, 'c');
    const opts1 = at('/srv/fleet/agents.yaml');
    await fileParseCache(dir, 'build-1').put(BUSY, opts1, parseConfig(BUSY, opts1));
    expect(await fileParseCache(dir, build).get(change(BUSY), opts)).toBeUndefined();
  });

  it('keeps one entry per file, replaced when the file changes', async () => {
    const dir = path.join(tmp, 'c');
    const cache = fileParseCache(dir, 'b');
    const opts = at('/srv/fleet/agents.yaml');
    const changed = BUSY.replace('replicas: 40', 'replicas: 3');
    await cache.put(BUSY, opts, parseConfig(BUSY, opts));
    await cache.put(changed, opts, parseConfig(changed, opts));
    expect(readdirSync(dir)).toHaveLength(1);
    expect((await cache.get(changed, opts))?.agents).toHaveLength(5);
    expect(await cache.get(BUSY, opts)).toBeUndefined();
  });

  it('an unreadable entry is a miss, never an error', async () => {
    const dir = path.join(tmp, 'c');
    const cache = fileParseCache(dir, 'b');
    const opts = at('/srv/fleet/agents.yaml');
    await cache.put(BUSY, opts, parseConfig(BUSY, opts));
    const [entry] = readdirSync(dir);
    writeFileSync(path.join(dir, entry as string), '{"format":1,"key":');
    expect(await cache.get(BUSY, opts)).toBeUndefined();
  });

  it('entries not rewritten for 30 days go when another is written', async () => {
    const dir = path.join(tmp, 'c');
    const cache = fileParseCache(dir, 'b');
    const old = at('/srv/old/agents.yaml');
    await cache.put(BUSY, old, parseConfig(BUSY, old));
    const [entry] = readdirSync(dir);
    const longAgo = new Date(Date.now() - 31 * 24 * 3600 * 1000);
    utimesSync(path.join(dir, entry as string), longAgo, longAgo);
    const now = at('/srv/now/agents.yaml');
    await cache.put(BUSY, now, parseConfig(BUSY, now));
    expect(readdirSync(dir)).toHaveLength(1);
    expect(await cache.get(BUSY, old)).toBeUndefined();
    expect(await cache.get(BUSY, now)).toBeDefined();
  });
});

describe("a cache directory that is not the user's alone is never read", () => {
  /** An entry with the right key whose content says something else than the file. */
  async function poisoned(dir: string): Promise<NormalizeOptions> {
    const opts = at('/srv/fleet/agents.yaml');
    await fileParseCache(dir, 'b').put(BUSY, opts, { ...parseConfig(BUSY, opts), project: 'poisoned' });
    expect((await fileParseCache(dir, 'b').get(BUSY, opts))?.project).toBe('poisoned');
    return opts;
  }

  it('writable by others', async () => {
    const dir = path.join(tmp, 'c');
    const opts = await poisoned(dir);
    chmodSync(dir, 0o777);
    expect(await fileParseCache(dir, 'b').get(BUSY, opts)).toBeUndefined();
  });

  it('readable by others (what is kept there says what runs, and where its secrets come from)', async () => {
    const dir = path.join(tmp, 'c');
    const opts = await poisoned(dir);
    chmodSync(dir, 0o755);
    expect(await fileParseCache(dir, 'b').get(BUSY, opts)).toBeUndefined();
  });

  it('a symlink to a directory', async () => {
    const real = path.join(tmp, 'real');
    const opts = await poisoned(real);
    const link = path.join(tmp, 'link');
    symlinkSync(real, link);
    expect(await fileParseCache(link, 'b').get(BUSY, opts)).toBeUndefined();
  });

  it('and nothing is written into it', async () => {
    const dir = path.join(tmp, 'open');
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
    const opts = at('/srv/fleet/agents.yaml');
    await fileParseCache(dir, 'b').put(BUSY, opts, parseConfig(BUSY, opts));
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('loadConfig with a cache', () => {
  it('reads a kept parse back, and parses a changed file again', async () => {
    const file = path.join(tmp, 'fleet', 'agents.yaml');
    mkdirSync(path.dirname(file));
    writeFileSync(file, BUSY);
    const cache = fileParseCache(path.join(tmp, 'c'), 'b');
    const first = await loadConfig(file, { cache });
    expect(await loadConfig(file, { cache })).toStrictEqual(first);
    writeFileSync(file, BUSY.replace('replicas: 40', 'replicas: 2'));
    expect((await loadConfig(file, { cache })).agents.map((a) => a.id)).toEqual([
      'built',
      'far',
      'w-1',
      'w-2',
    ]);
  });

  it('keeps no parse of a file with problems: it is reported every time', async () => {
    const file = path.join(tmp, 'agents.yaml');
    writeFileSync(file, 'version: 1\nagents:\n  a: { memroy: 1g }\n');
    const dir = path.join(tmp, 'c');
    const cache = fileParseCache(dir, 'b');
    for (let i = 0; i < 2; i++) await expect(loadConfig(file, { cache })).rejects.toThrow(/memroy/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('cacheDir', () => {
  const home = os.homedir();
  it.each([
    [{}, path.join(home, '.cache', 'agentctl')],
    [{ XDG_CACHE_HOME: '/x/cache' }, '/x/cache/agentctl'],
    [{ XDG_CACHE_HOME: '' }, path.join(home, '.cache', 'agentctl')],
    [{ AGENTCTL_CACHE_DIR: '/y', XDG_CACHE_HOME: '/x/cache' }, '/y'],
    [{ AGENTCTL_CACHE_DIR: '' }, undefined],
  ])('%j -> %s', (env, dir) => {
    expect(cacheDir(env)).toBe(dir);
  });
});
