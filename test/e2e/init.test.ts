/** agentctl init: a starter file that validates, with a modeline naming the published schema; no clobbering. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';

describe('agentctl init', () => {
  let dir: string;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-i8init-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a commented starter that agentctl validate accepts, and whose modeline names the schema', async () => {
    const r = await agentctlAsync(['init'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(path.join(dir, 'agents.yaml'), 'utf8');
    const v = await agentctlAsync(['validate'], { cwd: dir });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toContain('valid');
    expect(v.stderr).toBe('');

    const modeline = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text);
    expect(modeline).not.toBeNull();
    const schemaFile = path.resolve(dir, modeline?.[1] ?? '');
    expect(schemaFile).toBe(path.resolve('schemas/agents.schema.json'));
    // The schema an editor loads accepts the file too.
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
    expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true);
    expect(text.split('\n').filter((l) => l.trimStart().startsWith('#')).length).toBeGreaterThan(10);
  });

  it('every commented-out example, uncommented, is valid as well', async () => {
    expect((await agentctlAsync(['init', '-f', 'agents.yaml'], { cwd: dir })).status).toBe(0);
    const text = readFileSync(path.join(dir, 'agents.yaml'), 'utf8');
    const [first, ...rest] = text.split('\n');
    const all = [first, ...rest.map((l) => l.replace(/^(\s*)# ([a-zA-Z-]+: )/, '$1$2'))].join('\n');
    expect(all).toContain('\n  worker: { replicas: 3 }');
    writeFileSync(path.join(dir, 'all.yaml'), all);
    const v = await agentctlAsync(['validate', '-f', 'all.yaml', '-o', 'json'], {
      cwd: dir,
      env: { ANTHROPIC_API_KEY: 'x' },
    });
    expect(v.status, v.stdout).toBe(0);
    expect((JSON.parse(v.stdout) as { agents: unknown[] }).agents).toHaveLength(5);
  });

  it('refuses to overwrite a file without --force, and overwrites with it', async () => {
    const file = path.join(dir, 'agents.yaml');
    writeFileSync(file, 'mine\n');
    const r = await agentctlAsync(['init'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'agents.yaml already exists; refusing to overwrite it (pass --force to do it anyway)',
    );
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
    const j = await agentctlAsync(['init', '-o', 'json'], { cwd: dir });
    expect(JSON.parse(j.stdout).error.kind).toBe('usage');

    const f = await agentctlAsync(['init', '--force', '-o', 'json'], { cwd: dir });
    expect(f.status, f.stderr).toBe(0);
    expect(JSON.parse(f.stdout)).toEqual({
      file,
      schema: path.relative(dir, path.resolve('schemas/agents.schema.json')),
    });
    expect(readFileSync(file, 'utf8')).toMatch(/^# yaml-language-server/);
    // Into a directory that does not exist: an error, nothing half-written.
    expect((await agentctlAsync(['init', '-f', 'no/such/agents.yaml'], { cwd: dir })).status).toBe(1);
    expect(existsSync(path.join(dir, 'no'))).toBe(false);
  });
});
