/**
 * The Docker port's only implementation, and the only module that talks to the engine. It translates
 * between the Engine API and domain types and maps engine errors to AgentctlError. Plain JSON calls go
 * through EngineHttp (see there for why); streaming endpoints (exec, logs, events, build) are to use
 * dockerode, loaded lazily from this module only.
 */
import { AgentctlError, toAgentctlError } from '../errors.js';
import type { ContainerRunState, EngineInfo, LiveLimits, RestartPolicy } from '../types.js';
import { AGENT_MOUNT } from './container-config.js';
import { type EngineAddress, engineAddress, EngineHttp, EngineHttpError } from './engine-http.js';
import type {
  ContainerDetails,
  ContainerSummary,
  CreateContainerBody,
  DockerPort,
  ImageDetails,
} from './port.js';
import { firstFileInTar } from './tar.js';

/** Engine API shapes we read (only the fields used). */
interface ApiContainerRow {
  Id: string;
  Names?: string[];
  State: string;
  Image: string;
  ImageID: string;
  Labels?: Record<string, string> | null;
  Created: number;
}

interface ApiContainer {
  Id: string;
  Name: string;
  State: { Status: string; StartedAt?: string; ExitCode?: number; OOMKilled?: boolean };
  HostConfig: {
    Memory?: number;
    NanoCpus?: number;
    PidsLimit?: number | null;
    RestartPolicy?: { Name?: string };
  };
  Mounts?: { Destination: string; Source: string }[];
}

const q = encodeURIComponent;

export class DockerEngine implements DockerPort {
  private readonly http: EngineHttp;

  constructor(address: EngineAddress | undefined = engineAddress()) {
    if (!address) {
      // Agents' working directories are bind-mounted from this host, so the engine must run here too.
      throw new AgentctlError(
        'engine-unreachable',
        `DOCKER_HOST=${process.env.DOCKER_HOST} uses TLS; agentctl needs the engine on this host (a unix socket or plain tcp://), because agents' working directories are bind-mounted from this host`,
      );
    }
    this.http = new EngineHttp(address);
  }

  async info(): Promise<EngineInfo> {
    const info = await this.call<{
      NCPU: number;
      MemTotal: number;
      ServerVersion: string;
      Runtimes?: object;
    }>('docker info', 'GET', '/info');
    return {
      ncpu: Number(info.NCPU),
      memTotalBytes: Number(info.MemTotal),
      serverVersion: String(info.ServerVersion),
      runtimes: Object.keys(info.Runtimes ?? {}).sort(),
    };
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
    const rows = await this.call<ApiContainerRow[]>(
      'list containers',
      'GET',
      `/containers/json?all=1&filters=${q(JSON.stringify(filters))}`,
    );
    return rows.map(toSummary);
  }

  async listContainersByName(names: string[]): Promise<ContainerSummary[]> {
    if (names.length === 0) return [];
    // The engine's name filter is an unanchored regexp: anchor it, then compare exactly.
    const filters = { name: names.map((n) => `^/${escapeRegExp(n)}$`) };
    const rows = await this.call<ApiContainerRow[]>(
      'list containers',
      'GET',
      `/containers/json?all=1&filters=${q(JSON.stringify(filters))}`,
    );
    const wanted = new Set(names);
    return rows.map(toSummary).filter((c) => wanted.has(c.name));
  }

  async inspectContainer(id: string): Promise<ContainerDetails | undefined> {
    const c = await this.callOr404<ApiContainer>('inspect container', 'GET', `/containers/${q(id)}/json`);
    if (!c) return undefined;
    const hc = c.HostConfig;
    const limits: LiveLimits = {
      memoryBytes: Number(hc.Memory ?? 0),
      nanoCpus: Number(hc.NanoCpus ?? 0),
      pids: Number(hc.PidsLimit ?? 0),
      restart: (hc.RestartPolicy?.Name || 'no') as RestartPolicy,
    };
    return {
      id: c.Id,
      name: c.Name.replace(/^\//, ''),
      state: c.State.Status as ContainerRunState,
      limits,
      startedAt: c.State.StartedAt,
      exitCode: c.State.ExitCode,
      oomKilled: c.State.OOMKilled,
      workDir: (c.Mounts ?? []).find((m) => m.Destination === AGENT_MOUNT)?.Source,
    };
  }

  async inspectImage(ref: string): Promise<ImageDetails | undefined> {
    const img = await this.callOr404<{
      Id: string;
      Config?: { User?: string; Labels?: Record<string, string> | null };
    }>('inspect image', 'GET', `/images/${q(ref)}/json`);
    if (!img) return undefined;
    return { id: img.Id, user: img.Config?.User ?? '', labels: img.Config?.Labels ?? {} };
  }

  async readImageFile(ref: string, path: string): Promise<Buffer | undefined> {
    // A throwaway container (created, never started) exposes the image's filesystem to the archive call.
    const { Id } = await this.call<{ Id: string }>(`read ${path} from ${ref}`, 'POST', '/containers/create', {
      Image: ref,
      Cmd: ['/agentctl-never-started'],
      Entrypoint: [''],
      Labels: { 'agentctl.scratch': 'true' },
    });
    try {
      const tar = await this.rawOr404(`/containers/${Id}/archive?path=${q(path)}`);
      return tar ? firstFileInTar(tar) : undefined;
    } finally {
      await this.removeContainer(Id).catch(() => undefined);
    }
  }

  async networkExists(name: string): Promise<boolean> {
    return (await this.callOr404('inspect network', 'GET', `/networks/${q(name)}`)) !== undefined;
  }

  async createContainer(name: string, body: CreateContainerBody): Promise<string> {
    const res = await this.call<{ Id: string }>(
      `create ${name}`,
      'POST',
      `/containers/create?name=${q(name)}`,
      body,
    );
    return res.Id;
  }

  async startContainer(id: string): Promise<void> {
    await this.tolerate([304], `start ${short(id)}`, 'POST', `/containers/${q(id)}/start`);
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.tolerate(
      [304, 404],
      `stop ${short(id)}`,
      'POST',
      `/containers/${q(id)}/stop?t=${timeoutSeconds}`,
    );
  }

  async removeContainer(id: string): Promise<void> {
    await this.tolerate([404], `remove ${short(id)}`, 'DELETE', `/containers/${q(id)}?force=1&v=0`);
  }

  async renameContainer(id: string, newName: string): Promise<void> {
    await this.call(
      `rename ${short(id)} to ${newName}`,
      'POST',
      `/containers/${q(id)}/rename?name=${q(newName)}`,
    );
  }

  async updateContainer(id: string, limits: LiveLimits): Promise<void> {
    await this.call(`update ${short(id)}`, 'POST', `/containers/${q(id)}/update`, {
      Memory: limits.memoryBytes,
      MemorySwap: limits.memoryBytes,
      NanoCpus: limits.nanoCpus,
      PidsLimit: limits.pids,
      RestartPolicy: { Name: limits.restart, MaximumRetryCount: 0 },
    });
  }

  private async call<T>(what: string, method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await this.http.json<T>(method, path, body);
    } catch (err) {
      throw describe(what, err);
    }
  }

  private async callOr404<T>(what: string, method: string, path: string): Promise<T | undefined> {
    try {
      return await this.http.json<T>(method, path);
    } catch (err) {
      if (err instanceof EngineHttpError && err.statusCode === 404) return undefined;
      throw describe(what, err);
    }
  }

  private async rawOr404(path: string): Promise<Buffer | undefined> {
    try {
      return await this.http.raw('GET', path);
    } catch (err) {
      if (err instanceof EngineHttpError && err.statusCode === 404) return undefined;
      throw describe('read archive', err);
    }
  }

  /** Calls whose "already done" answers (304 not modified, 404 gone) mean success for us. */
  private async tolerate(codes: number[], what: string, method: string, path: string): Promise<void> {
    try {
      await this.http.raw(method, path);
    } catch (err) {
      if (err instanceof EngineHttpError && codes.includes(err.statusCode)) return;
      throw describe(what, err);
    }
  }
}

function describe(what: string, err: unknown): AgentctlError {
  const e = toAgentctlError(err);
  return e.kind === 'engine' ? new AgentctlError('engine', `${what}: ${e.message}`, { cause: err }) : e;
}

function toSummary(row: ApiContainerRow): ContainerSummary {
  return {
    id: row.Id,
    name: (row.Names?.[0] ?? '').replace(/^\//, ''),
    state: row.State as ContainerRunState,
    image: row.Image,
    imageId: row.ImageID,
    labels: row.Labels ?? {},
    createdAt: new Date(row.Created * 1000).toISOString(),
  };
}

function short(id: string): string {
  return id.slice(0, 12);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
