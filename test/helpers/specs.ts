/** Builders for pure planner tests: specs as the config layer would make them, containers as observed. */
import { LABEL } from '../../src/labels.js';
import { canonicalJson, hashedPart, specHash } from '../../src/spec-hash.js';
import type { AgentSpec, DesiredState, ObservedContainer, ObservedState } from '../../src/types.js';

export const IMAGE_ID = 'sha256:1111111111111111111111111111111111111111111111111111111111111111';

export function spec(id: string, over: Partial<AgentSpec> = {}): AgentSpec {
  return {
    id,
    name: `claude-agent-${id}`,
    image: 'claude-agent:latest',
    env: { AGENT_ID: id, AGENT_WORK_DIR: '/mnt', PYTHONPATH: '/mnt', TMPDIR: '/tmp/agent' },
    memoryBytes: 2 * 1024 ** 3,
    nanoCpus: 2e9,
    pids: 1024,
    ulimits: { nofile: { soft: 1024, hard: 2048 } },
    tmpfs: { '/home/agent/.cache': 'rw,noexec,nosuid,size=50m', '/tmp/agent': 'rw,noexec,nosuid,size=100m' },
    readOnly: true,
    network: 'bridge',
    capAdd: ['CHOWN', 'DAC_OVERRIDE', 'SETGID', 'SETUID'],
    capDrop: ['ALL'],
    noNewPrivileges: true,
    init: true,
    logs: { driver: 'json-file', options: { 'max-file': '3', 'max-size': '10m' } },
    restart: 'unless-stopped',
    state: 'running',
    labels: {},
    healthcheck: {
      command: ['/sbin/docker-init', '--version'],
      intervalMs: 300_000,
      timeoutMs: 30_000,
      retries: 3,
      startPeriodMs: 0,
    },
    workDir: `/srv/rt/agent-working-directory/${id}`,
    ...over,
  };
}

export function desired(agents: AgentSpec[], project = 'demo'): DesiredState {
  return {
    file: '/srv/agents.yaml',
    project,
    runtimeDir: '/srv/rt',
    namePrefix: 'claude-agent-',
    agents: [...agents].sort((a, b) => a.id.localeCompare(b.id)),
    positions: {},
    builds: [],
    warnings: [],
  };
}

/** The container an apply of `s` would have produced, as observe() would report it. */
export function container(s: AgentSpec, over: Partial<ObservedContainer> = {}): ObservedContainer {
  return {
    id: `c-${s.id}`,
    name: s.name,
    agentId: s.id,
    state: s.state === 'running' ? 'running' : 'exited',
    image: s.image,
    imageId: IMAGE_ID,
    specHash: specHash(s),
    temporary: false,
    limits: { memoryBytes: s.memoryBytes, nanoCpus: s.nanoCpus, pids: s.pids, restart: s.restart },
    labels: { [LABEL.spec]: canonicalJson(hashedPart(s)) },
    ...over,
  };
}

export function observed(containers: ObservedContainer[], over: Partial<ObservedState> = {}): ObservedState {
  return {
    project: 'demo',
    containers,
    images: { 'claude-agent:latest': IMAGE_ID },
    foreign: [],
    ...over,
  };
}
