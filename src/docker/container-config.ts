/** Pure mapping from a normalized AgentSpec to the Engine API create body. */
import { LABEL } from '../labels.js';
import { canonicalJson, hashedPart, specHash } from '../spec-hash.js';
import type { AgentSpec } from '../types.js';
import type { CreateContainerBody } from './port.js';
import { AGENT_WORK_DIR } from '../config/defaults.js';
import { UNROUTABLE_DNS } from '../egress/names.js';

/** Where every agent's working directory appears inside its container. */
export const AGENT_MOUNT = AGENT_WORK_DIR;

export function ownedLabels(project: string, spec: AgentSpec): Record<string, string> {
  return {
    ...spec.labels,
    [LABEL.project]: project,
    [LABEL.agent]: spec.id,
    [LABEL.name]: spec.name,
    [LABEL.specHash]: specHash(spec),
    [LABEL.spec]: canonicalJson(hashedPart(spec)),
  };
}

/** The uid/gid the agent's processes run as, when not root. */
export interface AgentUser {
  uid: number;
  gid: number;
}

/**
 * `user`: who the agent runs as. Its tmpfs mounts are made theirs: the engine (20.10 at least) mounts
 * a tmpfs with the mode of the directory it covers on first start but 0755 root on every restart, which
 * would leave a non-root agent unable to write its scratch space after a restart; owning it does not
 * depend on the mode.
 */
export function createBody(
  project: string,
  spec: AgentSpec,
  user?: AgentUser,
  /** `KEY=value` of the spec's secrets (src/secrets): in Env only, never in a label. */
  secretEnv: readonly string[] = [],
  /** A policy agent's fixed address on the egress network (how the gateway knows who is asking). */
  egressAddress?: string,
  /** The real path of the file creating it (the agentctl.file label); none from stdin. */
  file?: string,
): CreateContainerBody {
  return {
    Image: spec.image,
    ...(spec.command ? { Cmd: spec.command } : {}),
    Env: [
      ...Object.entries(spec.env)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`),
      ...secretEnv,
    ],
    ...(spec.user !== undefined ? { User: spec.user } : {}),
    WorkingDir: AGENT_MOUNT,
    Labels: { ...ownedLabels(project, spec), ...(file !== undefined && { [LABEL.file]: file }) },
    HostConfig: {
      Memory: spec.memoryBytes,
      // Equal to Memory: no swap, so the memory limit is a real limit.
      MemorySwap: spec.memoryBytes,
      NanoCpus: spec.nanoCpus,
      PidsLimit: spec.pids,
      Ulimits: Object.entries(spec.ulimits)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([Name, u]) => ({ Name, Soft: u.soft, Hard: u.hard })),
      Tmpfs: user ? ownedTmpfs(spec.tmpfs, user) : { ...spec.tmpfs },
      ReadonlyRootfs: spec.readOnly,
      NetworkMode: spec.network,
      CapDrop: [...spec.capDrop],
      CapAdd: [...spec.capAdd],
      SecurityOpt: spec.noNewPrivileges ? ['no-new-privileges:true'] : [],
      Init: spec.init,
      LogConfig: { Type: spec.logs.driver, Config: { ...spec.logs.options } },
      RestartPolicy: { Name: spec.restart, MaximumRetryCount: 0 },
      ...(spec.runtime !== undefined ? { Runtime: spec.runtime } : {}),
      // A Mount (unlike a Bind) fails when the source is missing instead of creating it as root.
      Mounts: [{ Type: 'bind', Source: spec.workDir, Target: AGENT_MOUNT, ReadOnly: false }],
      ...(egressAddress !== undefined && { Dns: [UNROUTABLE_DNS] }),
    },
    ...healthcheckBody(spec.healthcheck),
    ...(egressAddress !== undefined && {
      NetworkingConfig: {
        EndpointsConfig: { [spec.network]: { IPAMConfig: { IPv4Address: egressAddress } } },
      },
    }),
  };
}

const NS_PER_MS = 1_000_000;

/**
 * The Engine API's Healthcheck (durations in nanoseconds). `none` is `{ Test: ['NONE'] }`, which switches
 * off an image's own HEALTHCHECK too; `image` leaves the field out, so the image's applies. Every value of
 * ours is explicit and non-zero (0 would mean "take the image's"), except a start period of 0, which takes
 * the image's only when the image has a HEALTHCHECK of its own.
 */
export function healthcheckBody(hc: AgentSpec['healthcheck']): Pick<CreateContainerBody, 'Healthcheck'> {
  if (hc === 'image') return {};
  if (hc === 'none') return { Healthcheck: { Test: ['NONE'] } };
  return {
    Healthcheck: {
      Test: typeof hc.command === 'string' ? ['CMD-SHELL', hc.command] : ['CMD', ...hc.command],
      Interval: hc.intervalMs * NS_PER_MS,
      Timeout: hc.timeoutMs * NS_PER_MS,
      Retries: hc.retries,
      StartPeriod: hc.startPeriodMs * NS_PER_MS,
    },
  };
}

function ownedTmpfs(tmpfs: Record<string, string>, user: AgentUser): Record<string, string> {
  return Object.fromEntries(
    Object.entries(tmpfs).map(([mount, options]) => [mount, `${options},uid=${user.uid},gid=${user.gid}`]),
  );
}
