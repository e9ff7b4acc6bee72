/**
 * Preflight problems carry the agents they stop: the watch controller withholds those and applies the
 * rest, while a one-shot apply still refuses the whole run for any of them. Filesystem checks run
 * against a real temporary runtime directory; the engine is a stub that only knows its networks (their names: no room to judge).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DockerPort } from '../../src/docker/port.js';
import { plan } from '../../src/reconcile/plan.js';
import { preflight, preflightProblems } from '../../src/reconcile/preflight.js';
import type { AgentSpec, EngineInfo } from '../../src/types.js';
import { container, desired, observed, spec } from '../helpers/specs.js';

const engine: EngineInfo = {
  kind: 'docker',
  ncpu: 4,
  memTotalBytes: 8 * 1024 ** 3,
  serverVersion: 'x',
  runtimes: ['runc'],
  runtimeTraits: { runc: { gvisor: false, noNetwork: false } },
  kernelVersion: '6.1.0',
};
const port = {
  inspectNetwork: async (name: string) =>
    name === 'lan' ? { id: 'n-lan', name, internal: false, labels: {} } : undefined,
} as unknown as DockerPort;

describe('preflight problems, per agent', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) {
      chmodSync(d, 0o700);
      rmSync(d, { recursive: true, force: true });
    }
  });
  function world(specs: AgentSpec[]) {
    const runtimeDir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-preflight-'));
    dirs.push(runtimeDir);
    const placed = specs.map((s) => ({
      ...s,
      workDir: path.join(runtimeDir, 'agent-working-directory', s.id),
    }));
    return { d: { ...desired(placed), runtimeDir }, specs: placed, runtimeDir };
  }

  it('names the agents each problem stops, and refuses the whole run for any of them', async () => {
    const { d } = world([
      spec('ok'),
      spec('big', { nanoCpus: 64e9, memoryBytes: 64 * 1024 ** 3 }),
      spec('gvisor', { runtime: 'runsc' }),
      spec('noimg1', { image: 'nope:1' }),
      spec('noimg2', { image: 'nope:1' }),
      spec('nonet', { network: 'missing-net' }),
      spec('lan', { network: 'lan' }),
      spec('taken'),
    ]);
    const o = observed([], { foreign: [{ id: 'f00d', name: 'claude-agent-taken' }] });
    const p = plan(d, o);
    const problems = await preflightProblems(d, o, p, port, engine);
    expect(problems.map((x) => [x.agents, x.message])).toEqual([
      [['taken'], expect.stringMatching(/container name "claude-agent-taken" is taken/)],
      [['big'], expect.stringMatching(/agent big: cpus 64 exceeds the engine's 4 CPUs/)],
      [['big'], expect.stringMatching(/agent big: memory .* exceeds/)],
      [['gvisor'], expect.stringMatching(/agent gvisor: runtime "runsc" is not configured/)],
      [
        ['noimg1', 'noimg2'],
        expect.stringMatching(/image "nope:1" is not present .*needed by noimg1, noimg2/),
      ],
      [['nonet'], expect.stringMatching(/network "missing-net" does not exist .*needed by nonet/)],
    ]);
    expect(problems.flatMap((x) => x.agents)).not.toContain('ok');
    expect(problems.flatMap((x) => x.agents)).not.toContain('lan');
    await expect(preflight(d, o, p, port, engine)).rejects.toMatchObject({
      kind: 'preflight',
      message: expect.stringMatching(/^preflight failed, nothing was changed: .*is taken/),
      details: problems.slice(1).map((x) => x.message),
    });
  });

  it('refuses what a gVisor runtime cannot give: a network under --network=none, a pids limit its own threads exhaust', async () => {
    const gv: EngineInfo = {
      ...engine,
      runtimes: ['runc', 'runsc', 'runsc-net'],
      runtimeTraits: {
        runc: { gvisor: false, noNetwork: false },
        runsc: { gvisor: true, noNetwork: true },
        'runsc-net': { gvisor: true, noNetwork: false },
      },
    };
    const { d } = world([
      spec('sealed', { runtime: 'runsc', network: 'none' }),
      spec('wants-net', { runtime: 'runsc', network: 'bridge' }),
      spec('has-net', { runtime: 'runsc-net', network: 'bridge' }),
      spec('tiny', { runtime: 'runsc-net', network: 'none', pids: 100 }),
      spec('runc-tiny', { network: 'none', pids: 100 }),
    ]);
    const o = observed([]);
    const problems = await preflightProblems(d, o, plan(d, o), port, gv);
    expect(problems.map((x) => [x.agents, x.message])).toEqual([
      [
        ['tiny'],
        expect.stringMatching(
          /agent tiny: pids 100 under runtime "runsc-net" \(gVisor\): its pids limit also counts gVisor's own threads .* kills the whole sandbox; set pids to at least 128/,
        ),
      ],
      [
        ['wants-net'],
        expect.stringMatching(
          /agent wants-net: network "bridge" under runtime "runsc": .*gVisor with --network=none, so the sandbox would have no network but loopback; set network: none/,
        ),
      ],
    ]);
  });

  // The runtime that counts is the one the engine runs the agent under (its own, or the engine's
  // default), and whether it is gVisor is what the engine's registration says, not its name.
  const runc = { gvisor: false, noNetwork: false };
  const sealed = { gvisor: true, noNetwork: true };
  const defaultRunsc: EngineInfo = {
    ...engine,
    runtimes: ['runc', 'runsc'],
    runtimeTraits: { runc, runsc: sealed },
    defaultRuntime: 'runsc',
  };
  const namedGvisor: EngineInfo = {
    ...engine,
    runtimes: ['gvisor', 'runc'],
    runtimeTraits: { gvisor: sealed, runc },
    defaultRuntime: 'runc',
  };
  const defaultRunc: EngineInfo = { ...defaultRunsc, defaultRuntime: 'runc' };
  it.each<[string, EngineInfo, Partial<AgentSpec>, boolean, RegExp[]]>([
    [
      'bridge, no runtime, engine default runsc',
      defaultRunsc,
      { network: 'bridge', pids: 8192 },
      false,
      [
        /^agent a: network "bridge" under the engine's default runtime "runsc": the engine registers that runtime as gVisor with --network=none, so the sandbox would have no network but loopback; set network: none/,
      ],
    ],
    [
      'pids left to the runc default, engine default runsc',
      defaultRunsc,
      { network: 'none' },
      true,
      [
        /^agent a: pids is left to the default 1024 \(runc's\), but the agent runs under the engine's default runtime "runsc", which the engine registers as gVisor: .*about 119 processes before the whole sandbox is killed; set pids for this agent \(gVisor's default is 8192/,
      ],
    ],
    [
      'pids too low, engine default runsc',
      defaultRunsc,
      { network: 'none', pids: 100 },
      false,
      [
        /^agent a: pids 100 under the engine's default runtime "runsc" \(gVisor\): .*set pids to at least 128/,
      ],
    ],
    [
      'both, runtime registered as gvisor',
      namedGvisor,
      { runtime: 'gvisor', network: 'bridge' },
      true,
      [
        /^agent a: network "bridge" under runtime "gvisor": the engine registers that runtime as gVisor with --network=none/,
        /^agent a: pids is left to the default 1024 \(runc's\), but the agent runs under runtime "gvisor", which the engine registers as gVisor/,
      ],
    ],
    [
      'a pids the file sets, even 1024, is kept',
      namedGvisor,
      { runtime: 'gvisor', network: 'none' },
      false,
      [],
    ],
    ['no runtime, engine default runc', namedGvisor, { network: 'bridge' }, true, []],
    ['own runc on an engine whose default is runsc', defaultRunsc, { runtime: 'runc' }, true, []],
    ['the same agent where runsc is not the default', defaultRunc, { network: 'bridge' }, true, []],
  ])('%s', async (_what, info, over, builtIn, messages) => {
    const { d } = world([spec('a', over)]);
    const withPids = builtIn ? { ...d, builtInPids: ['a'] } : d;
    const o = observed([]);
    const problems = await preflightProblems(withPids, o, plan(withPids, o), port, info);
    expect(problems).toEqual(messages.map((m) => ({ agents: ['a'], message: expect.stringMatching(m) })));
  });

  it('says why a failed build left an image missing', async () => {
    const { d } = world([spec('a', { image: 'built:1' })]);
    const o = observed([]);
    const problems = await preflightProblems(d, o, plan(d, o), port, engine, {
      failedBuilds: new Map([['built:1', 'build built:1 failed: exit 1']]),
    });
    expect(problems).toEqual([
      {
        agents: ['a'],
        message: 'image "built:1" could not be built (needed by a): build built:1 failed: exit 1',
      },
    ]);
  });

  it('checks only agents that will change: a running agent with a missing image is fine', async () => {
    const { d, specs } = world([spec('a', { image: 'gone:1' })]);
    const o = observed([container(specs[0] as AgentSpec)]);
    expect(await preflightProblems(d, o, plan(d, o), port, engine)).toEqual([]);
  });

  it('stops one agent for a symlink in its own working directory, every agent for one above them, or an unwritable runtimeDir', async () => {
    const { d, runtimeDir } = world([spec('a'), spec('b')]);
    const o = observed([]);
    mkdirSync(path.join(runtimeDir, 'agent-working-directory'));
    symlinkSync('/tmp', path.join(runtimeDir, 'agent-working-directory', 'a'));
    expect(await preflightProblems(d, o, plan(d, o), port, engine)).toEqual([
      { agents: ['a'], message: expect.stringMatching(/agent-working-directory\/a is a symlink/) },
    ]);

    rmSync(path.join(runtimeDir, 'agent-working-directory'), { recursive: true });
    symlinkSync('/tmp', path.join(runtimeDir, 'agent-working-directory'));
    expect(await preflightProblems(d, o, plan(d, o), port, engine)).toEqual([
      { agents: [], message: expect.stringMatching(/agent-working-directory is a symlink/) },
    ]);

    rmSync(path.join(runtimeDir, 'agent-working-directory'));
    chmodSync(runtimeDir, 0o500);
    const unwritable = await preflightProblems(d, o, plan(d, o), port, engine);
    // root writes anywhere: only an unprivileged run can see this one.
    if (process.getuid?.() !== 0) {
      expect(unwritable).toEqual([{ agents: [], message: expect.stringMatching(/is not writable$/) }]);
    }
  });
});
