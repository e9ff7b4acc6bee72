/**
 * The one narrow port to the Docker engine. Only src/docker/engine.ts implements it;
 * everything else depends on this interface and domain types, which keeps the planner pure and lets
 * tests substitute a fake where a real engine cannot produce a fault.
 */
import type { ContainerRunState, EngineInfo, LiveLimits } from '../types.js';

/** Engine API container-create body (the subset we use). Built by container-config.ts. */
export interface CreateContainerBody {
  Image: string;
  Cmd?: string[];
  Env: string[];
  User?: string;
  WorkingDir: string;
  Labels: Record<string, string>;
  HostConfig: {
    Memory: number;
    MemorySwap: number;
    NanoCpus: number;
    PidsLimit: number;
    Ulimits: { Name: string; Soft: number; Hard: number }[];
    Tmpfs: Record<string, string>;
    ReadonlyRootfs: boolean;
    NetworkMode: string;
    CapDrop: string[];
    CapAdd: string[];
    SecurityOpt: string[];
    Init: boolean;
    LogConfig: { Type: string; Config: Record<string, string> };
    RestartPolicy: { Name: string; MaximumRetryCount: number };
    Runtime?: string;
    Mounts: { Type: 'bind'; Source: string; Target: string; ReadOnly: boolean }[];
  };
}

/** A row of the container list (cheap: one call for the whole project). */
export interface ContainerSummary {
  id: string;
  name: string;
  state: ContainerRunState;
  image: string;
  imageId: string;
  labels: Record<string, string>;
  createdAt: string;
}

/** What inspect adds to a summary. */
export interface ContainerDetails {
  id: string;
  name: string;
  state: ContainerRunState;
  limits: LiveLimits;
  startedAt?: string;
  exitCode?: number;
  oomKilled?: boolean;
  /** Host source of the /mnt bind mount, if any. */
  workDir?: string;
}

export interface ImageDetails {
  id: string;
  /** The image's configured user ('' = root). */
  user: string;
  labels: Record<string, string>;
}

export interface DockerPort {
  info(): Promise<EngineInfo>;
  /** All containers (running or not) carrying `label=value` for every entry of `labels`. */
  listContainers(labels: Record<string, string>): Promise<ContainerSummary[]>;
  /** Containers whose name is exactly one of `names` (any owner). */
  listContainersByName(names: string[]): Promise<ContainerSummary[]>;
  /** undefined when the container no longer exists. */
  inspectContainer(id: string): Promise<ContainerDetails | undefined>;
  /** undefined when the image is not present locally. */
  inspectImage(ref: string): Promise<ImageDetails | undefined>;
  /** A file's content from an image's filesystem, or undefined if it does not exist. */
  readImageFile(ref: string, path: string): Promise<Buffer | undefined>;
  networkExists(name: string): Promise<boolean>;
  createContainer(name: string, body: CreateContainerBody): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** Graceful stop: SIGTERM, then SIGKILL after `timeoutSeconds`. Stopping a stopped container is fine. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  /** Force-removes; anonymous volumes are kept (we never create any). Removing a gone container is fine. */
  removeContainer(id: string): Promise<void>;
  renameContainer(id: string, newName: string): Promise<void>;
  updateContainer(id: string, limits: LiveLimits): Promise<void>;
}
