import { describe, expect, it } from 'vitest';
import type { ContainerSummary, DockerPort } from '../../src/docker/port.js';
import { AgentctlError } from '../../src/errors.js';
import { resolveAgent } from '../../src/ops/resolve-agent.js';

function c(name: string, labels: Record<string, string>, state = 'running'): ContainerSummary {
  return {
    id: `id-${name}`,
    name,
    state: state as ContainerSummary['state'],
    image: 'img',
    imageId: 'sha256:1',
    labels,
    createdAt: '2024-01-01T00:00:00.000Z',
  };
}

const ours = (project: string, agent: string, name: string, extra: Record<string, string> = {}) =>
  c(name, { 'agentctl.project': project, 'agentctl.agent': agent, 'agentctl.name': name, ...extra });

/** A port over a fixed container list, filtering as the engine does (label=value ANDed; exact names). */
function fakePort(all: ContainerSummary[]): DockerPort {
  return {
    listContainers: async (labels: Record<string, string>) =>
      all.filter((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v)),
    listContainersByName: async (names: string[]) => all.filter((x) => names.includes(x.name)),
    listManaged: async (project?: string) =>
      all.filter(
        (x) =>
          x.labels['agentctl.project'] && (project === undefined || x.labels['agentctl.project'] === project),
      ),
  } as unknown as DockerPort;
}

async function failure(p: Promise<unknown>): Promise<AgentctlError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentctlError);
  return err as AgentctlError;
}

describe('resolveAgent', () => {
  const world = [
    ours('alpha', 'worker', 'claude-agent-worker'),
    ours('beta', 'worker', 'beta-worker', {}),
    ours('alpha', 'solo', 'claude-agent-solo'),
    // A replacement left by an interrupted recreate: same agent, temporary name.
    c('claude-agent-solo-next-abc123', {
      'agentctl.project': 'alpha',
      'agentctl.agent': 'solo',
      'agentctl.name': 'claude-agent-solo',
    }),
    // Someone else's container that happens to have a name we might be given.
    c('foreign', {}),
  ];
  const port = fakePort(world);

  it('finds an agent by id in a project, with its container and state', async () => {
    expect(await resolveAgent(port, 'worker', { project: 'beta' })).toEqual({
      id: 'id-beta-worker',
      name: 'beta-worker',
      project: 'beta',
      agentId: 'worker',
      state: 'running',
    });
  });

  it('searches every project without one, skipping leftovers of a recreate', async () => {
    expect((await resolveAgent(port, 'solo')).name).toBe('claude-agent-solo');
  });

  it('accepts the container name', async () => {
    expect((await resolveAgent(port, 'beta-worker')).agentId).toBe('worker');
    expect((await resolveAgent(port, 'claude-agent-worker', { project: 'alpha' })).project).toBe('alpha');
  });

  it('accepts a container id or a unique prefix of one (at least 4 hex digits), ours only', async () => {
    const hexWorld = [
      { ...ours('alpha', 'w-1', 'claude-agent-w-1'), id: 'abcdef0123456789' },
      { ...ours('alpha', 'w-2', 'claude-agent-w-2'), id: 'abcd99' },
      { ...c('foreign', {}), id: 'fedcba987654' },
    ];
    const hexPort = fakePort(hexWorld);
    expect((await resolveAgent(hexPort, 'abcdef0123456789')).agentId).toBe('w-1');
    expect((await resolveAgent(hexPort, 'abcdef')).agentId).toBe('w-1');
    expect((await resolveAgent(hexPort, 'abcd9', { project: 'alpha' })).agentId).toBe('w-2');
    expect((await failure(resolveAgent(hexPort, 'abc'))).kind).toBe('not-found'); // too short to be an id
    expect((await failure(resolveAgent(hexPort, 'abcd'))).message).toMatch(/ambiguous/);
    expect((await failure(resolveAgent(hexPort, 'fedcba987654'))).kind).toBe('not-found');
    expect((await failure(resolveAgent(hexPort, 'abcdef', { project: 'beta' }))).kind).toBe('not-found');
  });

  it('lists the candidates when an id is in several projects', async () => {
    const e = await failure(resolveAgent(port, 'worker'));
    // No CLI flag in a library message: the option is named in optIn, the CLI's handler adds its flag.
    expect(e.message).toBe('agent "worker" is ambiguous: it names agents in several projects');
    expect(e.optIn).toBe('project');
    expect(e.details).toEqual(['  alpha/worker (claude-agent-worker)', '  beta/worker (beta-worker)']);
  });

  it('is not found: unknown ids, other projects, containers we do not own, leftovers by name', async () => {
    for (const [id, project, message] of [
      ['nope', undefined, 'no agent "nope"'],
      ['solo', 'beta', 'no agent "solo" in project "beta"'],
      ['beta-worker', 'alpha', 'no agent "beta-worker" in project "alpha"'],
      ['foreign', undefined, 'no agent "foreign"'],
      ['claude-agent-solo-next-abc123', undefined, 'no agent "claude-agent-solo-next-abc123"'],
    ] as const) {
      const e = await failure(resolveAgent(port, id, { project }));
      expect([e.kind, e.message]).toEqual(['not-found', message]);
    }
  });
});
