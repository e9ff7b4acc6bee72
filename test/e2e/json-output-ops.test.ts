/**
 * `-o json` of the commands that act on agents (run, start/stop/restart/rm, cp, down, cleanup, build) and
 * of those that need no engine (render, init), checked against schemas/output/ on real output of the
 * built binary against the real engine; and every command's failures as error.json on stdout.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentctlAsync as agentctl } from '../helpers/cli.js';
import { dockerTry, projectContainers, TEST_IMAGE } from '../helpers/docker.js';
import { shape } from '../helpers/output-schema.js';
import { type TestProject, testProject } from '../helpers/project.js';
import { spawnWatch } from '../helpers/watch-process.js';

// Each test runs a dozen commands against the shared engine: under a loaded machine, over a minute.
const LONG = 240_000;

type Row = Record<string, unknown>;
const json = (stdout: string): Row => JSON.parse(stdout) as Row;
const rows = (stdout: string): Row[] => JSON.parse(stdout) as Row[];

describe('-o json of the commands that act on agents (real binary, real engine)', () => {
  let p: TestProject | undefined;
  afterEach(() => p?.cleanup());

  it(
    'run (detached and with a command), start, stop, restart, rm --data, cp both ways',
    async () => {
      p = testProject('i8sjr');
      const { project, dir } = p;
      const run = (...args: string[]) =>
        agentctl(
          ['run', '--project', project, '--image', TEST_IMAGE, '--network', 'none', '-o', 'json', ...args],
          {
            cwd: dir,
          },
        );
      const once = await run('once', '--rm', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3');
      expect(once.status).toBe(3);
      shape('run')(json(once.stdout));
      expect(json(once.stdout)).toMatchObject({
        project,
        agent: 'once',
        exitCode: 3,
        stdout: 'out\n',
        stderr: 'err\n',
      });

      // No command: the image's (a long sleep) runs detached, and nothing is known of its exit yet.
      const bg = await run('bg');
      expect(bg.status, bg.stderr).toBe(0);
      shape('run')(json(bg.stdout));
      expect(json(bg.stdout)).toMatchObject({
        project,
        agent: 'bg',
        exitCode: null,
        stdout: null,
        stderr: null,
      });

      for (const verb of ['stop', 'start', 'restart']) {
        const timeout = verb === 'start' ? [] : ['-t', '0'];
        const r = await agentctl([verb, 'bg', '--project', project, ...timeout, '-o', 'json'], { cwd: dir });
        expect(r.status, `${verb}: ${r.stderr}`).toBe(0);
        shape('lifecycle')(rows(r.stdout));
        expect(rows(r.stdout)).toEqual([
          { project, agent: 'bg', container: expect.any(String), ok: true, error: null, warning: null },
        ]);
      }

      // cp to and from the agent.
      writeFileSync(path.join(dir, 'in.txt'), 'hello\n');
      const to = await agentctl(['cp', 'in.txt', 'bg:/mnt/in.txt', '--project', project, '-o', 'json'], {
        cwd: dir,
      });
      expect(to.status, to.stderr).toBe(0);
      shape('cp')(json(to.stdout));
      expect(json(to.stdout)).toMatchObject({
        direction: 'to-agent',
        project,
        agent: 'bg',
        files: 1,
        bytes: 6,
      });
      const from = await agentctl(['cp', 'bg:/mnt/in.txt', 'out.txt', '--project', project, '-o', 'json'], {
        cwd: dir,
      });
      expect(from.status, from.stderr).toBe(0);
      shape('cp')(json(from.stdout));
      expect(json(from.stdout)).toMatchObject({ direction: 'from-agent', project, agent: 'bg', files: 1 });
      expect(readFileSync(path.join(dir, 'out.txt'), 'utf8')).toBe('hello\n');

      const rm = await agentctl(['rm', 'bg', '--data', '--project', project, '-t', '0', '-o', 'json'], {
        cwd: dir,
      });
      expect(rm.status, rm.stderr).toBe(0);
      shape('rm')(rows(rm.stdout));
      const removed = rows(rm.stdout);
      expect(removed.map((r) => [r.agent, r.ok, r.error])).toEqual([['bg', true, null]]);
      expect(removed[0]?.removedData).toEqual(expect.stringMatching(/agent-working-directory\/bg$/));
      expect(removed[0]?.freedBytes).toBeGreaterThanOrEqual(6);
      expect(projectContainers(project)).toEqual([]);

      // Failures: an unknown agent fails the whole command, as error.json on stdout.
      for (const args of [
        ['start', 'nope'],
        ['stop', 'nope'],
        ['restart', 'nope'],
        ['rm', 'nope'],
        ['cp', 'nope:/mnt/x', 'x'],
      ]) {
        const r = await agentctl([...args, '--project', project, '-o', 'json'], { cwd: dir });
        expect(r.status, args.join(' ')).toBe(1);
        shape('error')(json(r.stdout));
        expect(json(r.stdout)).toMatchObject({ error: { kind: 'not-found' } });
      }
      // run of an id the project already has: refused, not replaced.
      expect((await run('twice')).status).toBe(0);
      const again = await run('twice');
      expect(again.status).toBe(1);
      shape('error')(json(again.stdout));
    },
    LONG,
  );

  it(
    'down, down --dry-run --data, and cleanup',
    async () => {
      p = testProject('i8sjd');
      p.write('agents:\n  a: {}\n  b: {}', '  network: none');
      const cwd = p.dir;
      expect((await agentctl(['apply'], { cwd })).status).toBe(0);

      const dry = await agentctl(['down', '--dry-run', '--data', '-o', 'json'], { cwd });
      expect(dry.status, dry.stderr).toBe(0);
      shape('down')(json(dry.stdout));
      expect(json(dry.stdout)).toEqual({
        project: p.project,
        dryRun: true,
        removed: [
          { agent: 'a', container: `${p.prefix}a`, engine: 'local' },
          { agent: 'b', container: `${p.prefix}b`, engine: 'local' },
        ],
        removedData: [p.workDir('a'), p.workDir('b')],
        removedDataOn: [
          { engine: 'local', path: p.workDir('a') },
          { engine: 'local', path: p.workDir('b') },
        ],
        keptData: [],
        unreachable: [],
      });
      const stop = await agentctl(['stop', 'a', '-t', '0', '-o', 'json'], { cwd });
      expect(stop.status, stop.stderr).toBe(0);

      // cleanup of the stopped agent (the file is not read from '/': its data is not declared there).
      const runtimeDir = path.join(cwd, 'runtime');
      const clean = (...more: string[]) =>
        agentctl(
          [
            'cleanup',
            '--project',
            p?.project ?? '',
            '--runtime-dir',
            runtimeDir,
            '--older-than',
            '0s',
            ...more,
            '-o',
            'json',
          ],
          {
            cwd: '/',
          },
        );
      const preview = await clean('--dry-run');
      expect(preview.status, preview.stderr).toBe(0);
      shape('cleanup')(json(preview.stdout));
      expect(json(preview.stdout)).toMatchObject({
        project: p.project,
        dryRun: true,
        containers: [{ project: p.project, agent: 'a', state: 'exited', ok: true, error: null }],
      });
      const done = await clean();
      expect(done.status, done.stderr).toBe(0);
      shape('cleanup')(json(done.stdout));
      expect(json(done.stdout)).toMatchObject({ dryRun: false, containers: [{ agent: 'a', ok: true }] });
      expect(projectContainers(p.project)).toEqual([`${p.prefix}b`]);

      const down = await agentctl(['down', '--data', '-o', 'json'], { cwd });
      expect(down.status, down.stderr).toBe(0);
      shape('down')(json(down.stdout));
      expect(json(down.stdout)).toMatchObject({
        project: p.project,
        dryRun: false,
        removed: [{ agent: 'b', container: `${p.prefix}b` }],
        keptData: [],
      });
      const again = await agentctl(['down', '-o', 'json'], { cwd });
      shape('down')(json(again.stdout));
      expect(json(again.stdout)).toMatchObject({ removed: [], removedData: [] });

      const bad = await agentctl(['cleanup', '--older-than', 'a while', '-o', 'json'], { cwd });
      expect(bad.status).toBe(1);
      shape('error')(json(bad.stdout));
    },
    LONG,
  );

  it(
    'build: a built image and a failed build',
    async () => {
      p = testProject('i8sjb');
      const tag = `i8s-build-${p.project}:latest`;
      try {
        mkdirSync(path.join(p.dir, 'ctx'));
        writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), `FROM ${TEST_IMAGE}\nLABEL i8s=${p.project}\n`);
        p.write(`agents:\n  a: { image: "${tag}", build: { context: ./ctx } }`);
        const ok = await agentctl(['build', '-o', 'json'], { cwd: p.dir });
        expect(ok.status, ok.stderr).toBe(0);
        shape('build')(rows(ok.stdout));
        expect(rows(ok.stdout)).toEqual([
          {
            project: p.project,
            image: tag,
            ok: true,
            imageId: expect.stringMatching(/^sha256:/),
            error: null,
            durationMs: expect.any(Number),
          },
        ]);
        writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), 'FROM i8s-no-such-base-image:none\n');
        const failed = await agentctl(['build', '-o', 'json'], { cwd: p.dir });
        expect(failed.status).toBe(1);
        shape('build')(rows(failed.stdout));
        expect(rows(failed.stdout)).toMatchObject([{ ok: false, imageId: null, error: expect.any(String) }]);
      } finally {
        dockerTry('rmi', '-f', tag);
      }
    },
    LONG,
  );
});

describe('apply --watch -o json event lines (real binary, real engine)', () => {
  let p: TestProject | undefined;
  const locks = mkdtempSync(path.join(os.tmpdir(), 'agentctl-i8s-locks-'));
  afterEach(() => {
    p?.cleanup();
    rmSync(locks, { recursive: true, force: true });
  });

  it(
    'watching, config-warning, reconcile, error (a withheld agent), config-error, stopping, stopped',
    async () => {
      p = testProject('i8sjw');
      // host networking is warned about; an image that does not exist withholds its agent only.
      p.write('agents:\n  a: { network: host }\n  m: { image: "i8s-no-such-image:none" }', '  network: none');
      const w = spawnWatch([], { cwd: p.dir, env: { AGENTCTL_LOCK_DIR: locks } });
      try {
        await w.waitFor('watching', (e) => e.type === 'watching', 120_000);
        await w.waitFor(
          'the withheld agent',
          (e) => e.type === 'error' && (e.agents ?? []).includes('m'),
          120_000,
        );
        await w.waitFor('reconcile', (e) => e.type === 'reconcile', 120_000);
        writeFileSync(p.file, `${readFileSync(p.file, 'utf8')}  b: { memroy: 1g }\n`);
        await w.waitFor('config-error', (e) => e.type === 'config-error', 120_000);
        w.child.kill('SIGTERM');
        expect(await w.exited).toEqual({ code: 0, signal: null });
        expect(w.notJson.filter((l) => l !== '')).toEqual([]);
        expect(w.badShapes).toEqual([]);
        const types = new Set(w.events.map((e) => e.type));
        for (const t of [
          'watching',
          'config-warning',
          'reconcile',
          'error',
          'config-error',
          'stopping',
          'stopped',
        ])
          expect(types, t).toContain(t);
        // Every line names the project (the file was read before anything was said).
        expect(new Set(w.events.map((e) => e.project))).toEqual(new Set([p.project]));
      } finally {
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      }
    },
    LONG,
  );
});

describe('-o json without an engine: render and init', () => {
  let p: TestProject | undefined;
  afterEach(() => p?.cleanup());

  it(
    'render --kubernetes, with and without --out-dir, and init',
    async () => {
      p = testProject('i8sjn');
      p.write('agents:\n  a: { env: { MODE: x } }');
      const r = await agentctl(['render', '--kubernetes', '-o', 'json'], { cwd: p.dir });
      expect(r.status, r.stderr).toBe(0);
      shape('render')(json(r.stdout));
      expect(json(r.stdout)).toMatchObject({ project: p.project, files: null });
      const out = await agentctl(['render', '--kubernetes', '--out-dir', 'k8s', '-o', 'json'], {
        cwd: p.dir,
      });
      shape('render')(json(out.stdout));
      expect((json(out.stdout).files as string[]).some((f) => f.endsWith('kustomization.yaml'))).toBe(true);

      const init = await agentctl(['init', '-f', 'new.yaml', '-o', 'json'], { cwd: p.dir });
      expect(init.status, init.stderr).toBe(0);
      shape('init')(json(init.stdout));
      expect(json(init.stdout)).toMatchObject({ file: path.join(p.dir, 'new.yaml') });
      const twice = await agentctl(['init', '-f', 'new.yaml', '-o', 'json'], { cwd: p.dir });
      expect(twice.status).toBe(1);
      shape('error')(json(twice.stdout));
    },
    LONG,
  );

  it(
    'usage errors of every command with -o json, found while parsing or after, are error.json on stdout',
    async () => {
      p = testProject('i8sju');
      p.write('agents:\n  a: {}');
      const cases = [
        ['ps', '--bogus'],
        ['down', '--timeout', 'x'],
        ['apply', '--resync', '5'],
        ['diff', '--target', 'zz-nope'],
        ['egress', 'log', '--bogus'],
        ['render'],
        ['run', 'x', '-i'],
        ['stats', '--bogus'],
        ['inspect'],
        ['build'],
        ['cp', 'a', 'b'],
        ['cleanup', '--older-than', 'soon'],
        ['start'],
        ['validate', '--bogus'],
      ];
      for (const args of cases) {
        const r = await agentctl([...args, '-o', 'json'], { cwd: p.dir });
        const what = args.join(' ');
        expect(r.status, what).toBe(1);
        shape('error')(json(r.stdout));
        expect(json(r.stdout), what).toMatchObject({
          error: { kind: expect.stringMatching(/^(usage|not-found|config)$/) },
        });
      }
      // Without -o json, or with it only after `--` (the command's own words), stdout stays empty.
      expect((await agentctl(['ps', '--bogus'], { cwd: p.dir })).stdout).toBe('');
      expect((await agentctl(['exec', 'zz-nope', '--', 'x', '-o', 'json'], { cwd: p.dir })).stdout).toBe('');
    },
    LONG,
  );
});
