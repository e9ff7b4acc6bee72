/**
 * The built binary keeps what it parsed (config/parse-cache.ts) and reads it back for the same bytes, and
 * only then: a changed file is parsed again, and a cache directory others could write is never read.
 * What the cache holds is made to differ from the file here, so that each answer shows where it came from.
 */
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { type TestProject, testProject } from '../helpers/project.js';

describe('the parse cache of the CLI', () => {
  let p: TestProject | undefined;
  afterEach(() => p?.cleanup());

  async function validate(cache: string): Promise<{ project: string; agents: string[]; stderr: string }> {
    const r = await agentctlAsync(['validate', '-o', 'json'], {
      cwd: p?.dir,
      env: { AGENTCTL_CACHE_DIR: cache },
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { project: string; agents: string[] };
    return { ...out, stderr: r.stderr };
  }

  /** Rewrites the one entry so that what it says differs from the file (its key still matches). */
  function tamper(cache: string): void {
    const [name] = readdirSync(cache).filter((n) => n.startsWith('config-'));
    const file = path.join(cache, name as string);
    const entry = JSON.parse(readFileSync(file, 'utf8')) as { desired: { project: string } };
    entry.desired.project = 'from-the-cache';
    writeFileSync(file, JSON.stringify(entry));
  }

  it('reads a kept parse for the same bytes, parses a changed file again, and trusts only a private directory', async () => {
    p = testProject('pcache');
    p.write('agents:\n  w: { replicas: 3 }');
    const cache = path.join(p.dir, 'cache');

    expect((await validate(cache)).project).toBe(p.project);
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    const entries = readdirSync(cache);
    expect(entries).toHaveLength(1);
    expect(statSync(path.join(cache, entries[0] as string)).mode & 0o777).toBe(0o600);

    tamper(cache);
    expect((await validate(cache)).project).toBe('from-the-cache');

    // One byte more (a comment): parsed again, and the entry replaced.
    writeFileSync(p.file, `${readFileSync(p.file, 'utf8')}# saved\n`);
    expect((await validate(cache)).project).toBe(p.project);
    expect(readdirSync(cache)).toHaveLength(1);

    tamper(cache);
    chmodSync(cache, 0o777);
    expect((await validate(cache)).project).toBe(p.project);
  });

  it("a cached run still prints the file's warnings", async () => {
    p = testProject('pcwarn');
    p.write('agents:\n  a: { init: false }');
    const cache = path.join(p.dir, 'cache');
    const run = () => agentctlAsync(['validate'], { cwd: p?.dir, env: { AGENTCTL_CACHE_DIR: cache } });
    const first = await run();
    expect(first.stderr).toMatch(/agents\.yaml:\d+:\d+: warning: .*init/);
    expect(readdirSync(cache)).toHaveLength(1);
    const second = await run();
    expect(second.status).toBe(0);
    expect(second.stderr).toBe(first.stderr);
  });

  it('AGENTCTL_CACHE_DIR empty keeps nothing', async () => {
    p = testProject('pcoff');
    p.write('agents:\n  a: {}');
    await validate('');
    expect(readdirSync(p.dir).sort()).toEqual(['agents.yaml']);
  });
});
