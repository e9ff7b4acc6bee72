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
 */
import type { CreateContainerBody } from './port.js';
import { isInitProbe } from '../config/healthcheck.js';

export const NO_LIVE_UPDATE =
  "Podman's Docker-compatible API cannot update a container (no /containers/{id}/update)";

/** The mounts Podman makes writable under a read-only root. */
const PODMAN_WRITABLE = ['/run', '/tmp', '/var/tmp'];

/** Read-only and empty: only there to hide Podman's writable mount (tmpfs needs some size). */
const SEALED_TMPFS = 'ro,noexec,nosuid,nodev,size=4k';

export function podmanCreateBody(body: CreateContainerBody): CreateContainerBody {
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
    HostConfig: { ...body.HostConfig, Tmpfs: tmpfs },
    ...(body.Healthcheck && { Healthcheck: podmanHealthcheck(body.Healthcheck) }),
  };
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
