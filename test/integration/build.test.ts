/** Images declared with `build:`: apply builds what is missing, --build rebuilds, agents follow the new image. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { reconcile } from '../../src/ops/reconcile.js';
import { agentctlAsync, runAsync } from '../helpers/cli.js';
import { docker, dockerAsync, dockerTry, inspect, projectContainers, TEST_IMAGE } from '../helpers/docker.js';
import { type TestProject, testProject } from '../helpers/project.js';

function imageId(tag: string): string | undefined {
  const r = dockerTry('image', 'inspect', '--format', '{{.Id}}', tag);
  return r.status === 0 ? r.stdout : undefined;
}

describe('building declared images (real engine)', () => {
  let p: TestProject;
  let tag: string;
  afterEach(() => {
    p.cleanup();
    dockerTry('rmi', '-f', tag);
  });

  function setUp(dockerfile: string): string {
    p = testProject('build');
    tag = `agentctl-test-build-${p.project}:latest`;
    const ctx = path.join(p.dir, 'image');
    mkdirSync(ctx);
    writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile);
    writeFileSync(path.join(ctx, '.dockerignore'), 'secret.txt\n');
    writeFileSync(path.join(ctx, 'secret.txt'), 'must not reach the engine');
    p.write(`agents:\n  a: { image: "${tag}", build: { context: ./image, args: { FLAVOUR: plain } } }`);
    return ctx;
  }

  it('apply builds a missing image, then uses it; --build rebuilds and the agent is recreated', async () => {
    const ctx = setUp(`FROM ${TEST_IMAGE}\nARG FLAVOUR\nLABEL flavour=$FLAVOUR\nCOPY . /ctx/\n`);
    expect(imageId(tag)).toBeUndefined();

    const lines: string[] = [];
    const first = await reconcile(await p.load(), { buildOptions: { onOutput: (_i, l) => lines.push(l) } });
    expect(first.report.results.filter((r) => !r.ok).map((r) => r.error)).toEqual([]);
    expect(lines.some((l) => /Step \d+\/\d+/.test(l))).toBe(true);
    const built = imageId(tag);
    expect(built).toBeDefined();
    expect(docker('image', 'inspect', '--format', '{{index .Config.Labels "flavour"}}', tag)).toBe('plain');
    const c = inspect(`${p.prefix}a`);
    expect(c.Image).toBe(built);
    // .dockerignore is honoured: the ignored file never reached the build.
    expect(dockerTry('exec', `${p.prefix}a`, 'ls', '/ctx/secret.txt').status).not.toBe(0);
    expect(docker('exec', `${p.prefix}a`, 'ls', '/ctx')).toContain('Dockerfile');

    // The image is present now: a plain apply neither rebuilds nor changes anything.
    writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${TEST_IMAGE}\nLABEL flavour=changed\n`);
    const second = await reconcile(await p.load());
    expect(second.plan.actions).toEqual([]);
    expect(imageId(tag)).toBe(built);

    // apply --build rebuilds; the tag now points elsewhere, so the agent is recreated on the new image.
    const third = await reconcile(await p.load(), { build: 'always' });
    expect(third.plan.actions.map((a) => `${a.kind} ${a.agentId}`)).toEqual(['recreate a']);
    const rebuilt = imageId(tag);
    expect(rebuilt).not.toBe(built);
    expect(inspect(`${p.prefix}a`).Image).toBe(rebuilt);
  });

  it('a failing build stops the run before any container is made', async () => {
    setUp(`FROM ${TEST_IMAGE}\nRUN ["/bin/false"]\n`);
    await expect(reconcile(await p.load())).rejects.toThrow(
      /image build failed, nothing was changed: build .* failed/,
    );
    expect(projectContainers(p.project)).toEqual([]);
  });

  it('agentctl build streams the output and says what it built; dry-run builds nothing', async () => {
    setUp(`FROM ${TEST_IMAGE}\nLABEL x=1\n`);
    const dry = await agentctlAsync(['apply', '--dry-run'], { cwd: p.dir });
    expect(dry.status).toBe(0);
    expect(imageId(tag)).toBeUndefined();

    const r = await agentctlAsync(['build'], { cwd: p.dir });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`building ${tag} from ${path.join(p.dir, 'image')}`);
    expect(r.stderr).toMatch(new RegExp(`\\[${tag.replace(/[.]/g, '\\.')}\\] Step 1/2 : FROM`));
    expect(r.stdout).toMatch(new RegExp(`^built ${tag.replace(/[.]/g, '\\.')} \\(`));
    expect(imageId(tag)).toBeDefined();
    expect(projectContainers(p.project)).toEqual([]);
  });
});

describe('build contexts are sent as the docker CLI sends them (real engine, real docker CLI)', () => {
  const cases = [
    // The engine keeps the Dockerfile and .dockerignore out of `COPY .`; a Dockerfile's directory stays.
    {
      name: 'Dockerfile at the root',
      dockerfile: 'Dockerfile',
      sent: ['/ctx', '/ctx/keep', '/ctx/keep/one.txt'],
    },
    {
      name: 'Dockerfile in a subdirectory',
      dockerfile: 'docker/Dockerfile',
      sent: ['/ctx', '/ctx/docker', '/ctx/keep', '/ctx/keep/one.txt'],
    },
  ];
  const made: { p: TestProject; tags: string[] }[] = [];
  afterEach(() => {
    for (const m of made.splice(0)) {
      m.p.cleanup();
      for (const t of m.tags) dockerTry('rmi', '-f', t);
    }
  });

  /** What `COPY . /ctx/` put in the image, as the image's own `find` lists it. */
  async function copied(tag: string): Promise<string[]> {
    return (await dockerAsync('run', '--rm', '--entrypoint', 'find', tag, '/ctx')).split('\n').sort();
  }

  it.each(cases)(
    'a .dockerignore of `*` still sends the Dockerfile ($name)',
    async ({ dockerfile, sent }) => {
      const p = testProject('ctx');
      const ours = `agentctl-test-ctx-${p.project}:latest`;
      const theirs = `agentctl-test-ctx-cli-${p.project}:latest`;
      made.push({ p, tags: [ours, theirs] });
      const ctx = path.join(p.dir, 'image');
      mkdirSync(path.join(ctx, 'docker'), { recursive: true });
      mkdirSync(path.join(ctx, 'keep'));
      writeFileSync(path.join(ctx, dockerfile), `FROM ${TEST_IMAGE}\nCOPY . /ctx/\n`);
      // Ignore everything, but one exception inside an ignored directory (the CLI walks into it).
      writeFileSync(path.join(ctx, '.dockerignore'), '# nothing but keep/one.txt\n*\n!keep/one.txt\n');
      writeFileSync(path.join(ctx, 'secret.txt'), 'must not reach the engine');
      writeFileSync(path.join(ctx, 'keep', 'one.txt'), '1');
      writeFileSync(path.join(ctx, 'keep', 'two.txt'), '2');
      p.write(`agents:\n  a: { image: "${ours}", build: { context: ./image, dockerfile: ${dockerfile} } }`);

      const r = await agentctlAsync(['build'], { cwd: p.dir });
      expect(r.stderr).not.toContain('Cannot locate specified Dockerfile');
      expect(r.status).toBe(0);

      const cli = await runAsync(
        'docker',
        ['build', '-q', '-t', theirs, '-f', path.join(ctx, dockerfile), ctx],
        {
          env: { DOCKER_BUILDKIT: '0' },
        },
      );
      expect(cli.status, cli.stderr).toBe(0);

      expect(await copied(ours)).toEqual(sent);
      expect(await copied(ours)).toEqual(await copied(theirs));
    },
  );
});

describe('a base image that cannot be pulled (real engine)', () => {
  let p: TestProject;
  afterEach(() => p.cleanup());

  it('build and apply name the base image and say how to make it, not the raw engine error alone', async () => {
    p = testProject('nobase');
    const base = `agentctl-test-nobase-${p.project}:latest`;
    const tag = `agentctl-test-nobase-out-${p.project}:latest`;
    const ctx = path.join(p.dir, 'image');
    mkdirSync(ctx);
    // The base comes through an ARG, as in agent-image/: the message must show it expanded.
    writeFileSync(path.join(ctx, 'Dockerfile'), `ARG BASE_IMAGE=nothing\nFROM \${BASE_IMAGE}\nRUN true\n`);
    p.write(
      `agents:\n  a: { image: "${tag}", build: { context: ./image, args: { BASE_IMAGE: "${base}" } } }`,
    );

    const build = await agentctlAsync(['build'], { cwd: p.dir });
    expect(build.status).toBe(1);
    expect(build.stdout).toContain(`its base image ${base} is not on the engine and could not be pulled (`);
    expect(build.stdout).toContain(`\`docker pull ${base}\``);

    // A context that ships a bootstrap script (as agent-image/ does): the hint is to run it.
    writeFileSync(path.join(ctx, 'bootstrap-base.sh'), '#!/bin/sh\n', { mode: 0o755 });
    const apply = await agentctlAsync(['apply'], { cwd: p.dir });
    expect(apply.status).toBe(1);
    expect(apply.stderr).toContain('image build failed, nothing was changed');
    expect(apply.stderr).toContain(`its base image ${base} is not on the engine`);
    expect(apply.stderr).toContain(
      `make it with debootstrap (installs what it needs): sudo image/bootstrap-base.sh ${base}`,
    );
    expect(projectContainers(p.project)).toEqual([]);
  });
});
