/**
 * Podman's Docker-compatible API (`podman system service`) differs from dockerd in ways that would make
 * an agent silently weaker than its file, or make every update drift. This module holds what the engine
 * adapter does about each, so src/docker/engine.ts stays one code path. Pure; unit-tested.
 *
 * - tmpfs `uid=`/`gid=` options are rejected; Podman's own `U` option chowns the mount to the
 *   container's user, which is the user agentctl's uid/gid name.
 * - With a read-only root, Podman adds writable, executable tmpfs mounts at /tmp, /run and /var/tmp
 *   (its --read-only-tmpfs, which the compatible API cannot turn off): each one the agent did not
 *   declare is covered by a read-only, noexec tmpfs, so the root is as read-only as under dockerd.
 * - There is no /containers/{id}/update (404): limits change by recreating (NO_LIVE_UPDATE).
 * - `HostConfig.Runtime` is ignored: an agent asking for a runtime is refused (preflight).
 * - Podman's init (catatonit, with `Init: true`) is at /run/podman-init, not /sbin/docker-init: the
 *   default healthcheck probe is pointed there.
 * - An exec reports Pid 0 once it has ended, so "did it start" is read from the runtime's own
 *   message instead (RUNTIME_START_FAILURE).
 * - A file without `nproc` gets no process limit but its pids cgroup; a rootful Podman 4 would set an
 *   nproc it may not be able to grant (podmanUlimits).
 * - Podman gives a non-root user every capability CapAdd names in its effective (and ambient) set,
 *   where dockerd leaves them in the bounding set only: the kept capabilities are said as a drop list
 *   instead (podmanCapabilities).
 * - Healthchecks run from systemd timers: a Podman without systemd never runs the probe, so an agent
 *   with one is refused there (podmanHealthcheckProblem, in preflight).
 */
import type { CreateContainerBody } from './port.js';
import { ADDABLE_CAPABILITIES, LINUX_CAPABILITIES } from '../config/capabilities.js';
import { isInitProbe } from '../config/healthcheck.js';
import type { AgentSpec, EngineInfo } from '../types.js';

export const NO_LIVE_UPDATE =
  "Podman's Docker-compatible API cannot update a container (no /containers/{id}/update)";

/** The mounts Podman makes writable under a read-only root. */
const PODMAN_WRITABLE = ['/run', '/tmp', '/var/tmp'];

/** Read-only and empty: only there to hide Podman's writable mount (tmpfs needs some size). */
const SEALED_TMPFS = 'ro,noexec,nosuid,nodev,size=4k';

/** What podmanCreateBody needs to know of the service beyond the body. */
export interface PodmanHost {
  /** kernel.pid_max of the service's host, given when the service is rootful (see podmanUlimits). */
  pidMax?: number;
}

export function podmanCreateBody(body: CreateContainerBody, host: PodmanHost = {}): CreateContainerBody {
  const tmpfs: Record<string, string> = {};
  for (const [mount, options] of Object.entries(body.HostConfig.Tmpfs)) {
    const opts = options.split(',');
    const owned = opts.some((o) => /^(uid|gid)=/.test(o));
    tmpfs[mount] = [...opts.filter((o) => !/^(uid|gid)=/.test(o)), ...(owned ? ['U'] : [])].join(',');
  }
  if (body.HostConfig.ReadonlyRootfs) {
    for (const mount of PODMAN_WRITABLE) tmpfs[mount] ??= SEALED_TMPFS;
  }
  return {
    ...body,
    HostConfig: {
      ...body.HostConfig,
      Tmpfs: tmpfs,
      Ulimits: podmanUlimits(body.HostConfig.Ulimits, host.pidMax),
      ...podmanCapabilities(body.HostConfig.CapDrop, body.HostConfig.CapAdd),
    },
    ...(body.Healthcheck && { Healthcheck: podmanHealthcheck(body.Healthcheck) }),
  };
}

/**
 * The capabilities dockerd would give, said so that Podman gives no more. Under dockerd, what CapAdd adds
 * back is the container's bounding set; a non-root agent's effective set is empty (as for any non-root
 * process: no-new-privileges keeps setuid files from raising it). Podman 4 also puts each CapAdd
 * capability into a non-root user's ambient, permitted and effective sets: uid 1000 could setuid(0),
 * chown, and read or write any file of the container at will. Dropping every capability but the kept
 * ones and adding none gives Podman's bounding set exactly the kept ones (whatever its
 * default_capabilities) and a non-root agent none in effect. The cost, on Podman only: a root agent gets
 * those of the kept ones that are in Podman's default set (Podman 4's has no AUDIT_WRITE, MKNOD or
 * NET_RAW); never more than under dockerd.
 */
function podmanCapabilities(
  drop: readonly string[],
  add: readonly string[],
): Pick<CreateContainerBody['HostConfig'], 'CapDrop' | 'CapAdd'> {
  const kept = new Set([
    ...(drop.includes('ALL') ? [] : ADDABLE_CAPABILITIES.filter((c) => !drop.includes(c))),
    ...add,
  ]);
  return { CapDrop: [...LINUX_CAPABILITIES].filter((c) => !kept.has(c)).sort(), CapAdd: [] };
}

/**
 * A container without an nproc ulimit: under dockerd it keeps dockerd's own. A rootful Podman 4 instead
 * sets 1048576, which its service can grant only with CAP_SYS_RESOURCE: without it (Podman inside a
 * container, as on this project's CI) every such container fails to start with `error setting rlimit
 * type 6` (newer Podman clamps its default to its own limit). kernel.pid_max is within what the
 * service holds (Podman 4 lowers its own nproc to pid_max when it starts: strace shows
 * setrlimit(RLIMIT_NPROC, pid_max)), and it is no limit at all: the kernel never has pid_max tasks at
 * once, so no uid reaches it. The file's own nproc is kept as written; rootless Podman already passes
 * down its own limit.
 */
function podmanUlimits(
  ulimits: CreateContainerBody['HostConfig']['Ulimits'],
  pidMax: number | undefined,
): CreateContainerBody['HostConfig']['Ulimits'] {
  if (pidMax === undefined || ulimits.some((u) => u.Name === 'nproc')) return ulimits;
  return [...ulimits, { Name: 'nproc', Soft: pidMax, Hard: pidMax }].sort((a, b) =>
    a.Name.localeCompare(b.Name),
  );
}

/**
 * Why a Podman engine would never run `spec`'s healthcheck, if it would not. Podman has no scheduler of
 * its own: each container's probe is a systemd timer (`systemd-run ... podman healthcheck run`). On
 * cgroupfs, Podman does not talk to systemd, and where there is none (a container, most CI) the timer
 * is never made: the agent stays `starting` forever while looking fine. Only `healthcheck: none` says
 * what such an engine does; `image` is refused too, as the image's own HEALTHCHECK would not run either.
 */
export function podmanHealthcheckProblem(spec: AgentSpec, engine: EngineInfo): string | undefined {
  if (engine.kind !== 'podman' || engine.cgroupDriver === 'systemd' || spec.healthcheck === 'none')
    return undefined;
  const what =
    spec.healthcheck === 'image' ? "healthcheck: image (the image's own HEALTHCHECK)" : 'a healthcheck';
  return `${what} on Podman with cgroup manager ${engine.cgroupDriver ?? 'unknown'}: Podman runs healthchecks only from systemd timers, so without systemd the probe never runs and the agent would show "starting" forever; write healthcheck: none for this agent, or run Podman with systemd (cgroup_manager = "systemd" in containers.conf)`;
}

/** Where Podman mounts its init into a container started with `Init: true`. */
export const PODMAN_INIT = '/run/podman-init';

function podmanHealthcheck(
  hc: NonNullable<CreateContainerBody['Healthcheck']>,
): CreateContainerBody['Healthcheck'] {
  const [form, ...command] = hc.Test;
  return form === 'CMD' && isInitProbe(command)
    ? { ...hc, Test: ['CMD', PODMAN_INIT, ...command.slice(1)] }
    : hc;
}

/** What Podman writes into an exec's output when the runtime could not start the process. */
export const RUNTIME_START_FAILURE =
  /OCI runtime attempted to invoke a command that was not found|OCI permission denied|exec failed: unable to start container process/;

/** Whether /version describes Podman (its Components list names the Podman Engine). */
export function isPodmanVersion(version: { Components?: { Name?: string }[] | null }): boolean {
  return (version.Components ?? []).some((c) => /podman/i.test(c.Name ?? ''));
}
