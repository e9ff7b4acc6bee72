import { describe, expect, it } from 'vitest';
import { LINUX_CAPABILITIES } from '../../src/config/capabilities.js';
import type { CreateContainerBody } from '../../src/docker/port.js';
import {
  isPodmanVersion,
  podmanCreateBody,
  podmanHealthcheckProblem,
  RUNTIME_START_FAILURE,
} from '../../src/docker/podman.js';
import type { EngineInfo } from '../../src/types.js';
import { spec } from '../helpers/specs.js';

function body(
  tmpfs: Record<string, string>,
  readOnly: boolean,
  ulimits: CreateContainerBody['HostConfig']['Ulimits'] = [],
): CreateContainerBody {
  return {
    HostConfig: { Tmpfs: tmpfs, ReadonlyRootfs: readOnly, Ulimits: ulimits, CapDrop: ['ALL'], CapAdd: [] },
  } as unknown as CreateContainerBody;
}

describe('podmanCreateBody: the same sandbox on Podman', () => {
  it.each([
    [
      'owned tmpfs use U instead of uid/gid; the writable mounts Podman adds are sealed',
      body({ '/tmp/agent': 'rw,noexec,nosuid,size=100m,uid=1000,gid=1000' }, true),
      {
        '/run': 'ro,noexec,nosuid,nodev,size=4k',
        '/tmp': 'ro,noexec,nosuid,nodev,size=4k',
        '/tmp/agent': 'rw,noexec,nosuid,size=100m,U',
        '/var/tmp': 'ro,noexec,nosuid,nodev,size=4k',
      },
    ],
    [
      'a mount the agent declares is kept as declared, not sealed',
      body({ '/tmp': 'rw,noexec,nosuid,size=10m' }, true),
      {
        '/run': 'ro,noexec,nosuid,nodev,size=4k',
        '/tmp': 'rw,noexec,nosuid,size=10m',
        '/var/tmp': 'ro,noexec,nosuid,nodev,size=4k',
      },
    ],
    ['a writable root needs no sealing', body({ '/x': 'rw,size=1m' }, false), { '/x': 'rw,size=1m' }],
  ])('%s', (_name, input, tmpfs) => {
    expect(podmanCreateBody(input).HostConfig.Tmpfs).toEqual(tmpfs);
  });
});

describe('podmanCreateBody: no capability in effect that dockerd would not give', () => {
  const caps = (drop: string[], add: string[]) => {
    const b = body({}, true);
    return podmanCreateBody({ ...b, HostConfig: { ...b.HostConfig, CapDrop: drop, CapAdd: add } }).HostConfig;
  };
  it('says drop ALL + add as a drop of every other capability, adding none (Podman would make an add effective)', () => {
    const hc = caps(['ALL'], ['CHOWN', 'DAC_OVERRIDE', 'SETGID', 'SETUID']);
    expect(hc.CapAdd).toEqual([]);
    expect(hc.CapDrop).toHaveLength(LINUX_CAPABILITIES.size - 4);
    expect(hc.CapDrop).toContain('SYS_ADMIN');
    expect(hc.CapDrop).toContain('NET_RAW');
    for (const kept of ['CHOWN', 'DAC_OVERRIDE', 'SETGID', 'SETUID']) expect(hc.CapDrop).not.toContain(kept);
  });
  it("keeps Docker's default set less a drop without ALL, plus the adds", () => {
    const hc = caps(['NET_RAW', 'MKNOD'], ['SYS_ADMIN']);
    expect(hc.CapAdd).toEqual([]);
    expect(hc.CapDrop).toContain('NET_RAW');
    expect(hc.CapDrop).toContain('MKNOD');
    expect(hc.CapDrop).not.toContain('SYS_ADMIN');
    expect(hc.CapDrop).not.toContain('CHOWN');
  });
});

describe('podmanCreateBody: nproc on a rootful Podman', () => {
  const nofile = { Name: 'nofile', Soft: 1024, Hard: 2048 };
  it.each([
    ['no nproc: pid_max, a limit no uid can reach', [nofile], 32768, [nofile, nproc(32768)]],
    ["the file's nproc is kept as written", [nofile, nproc(64)], 32768, [nofile, nproc(64)]],
    ['rootless or remote (no pid_max given): unchanged', [nofile], undefined, [nofile]],
  ])('%s', (_name, ulimits, pidMax, want) => {
    const host = pidMax === undefined ? {} : { pidMax };
    expect(podmanCreateBody(body({}, false, ulimits), host).HostConfig.Ulimits).toEqual(want);
  });
  function nproc(n: number) {
    return { Name: 'nproc', Soft: n, Hard: n };
  }
});

describe('podmanHealthcheckProblem: only an engine that runs probes gets one', () => {
  const engine = (kind: EngineInfo['kind'], cgroupDriver?: string) =>
    ({ kind, ...(cgroupDriver !== undefined && { cgroupDriver }) }) as EngineInfo;
  it.each([
    [
      'the default probe, Podman on cgroupfs',
      engine('podman', 'cgroupfs'),
      spec('a'),
      /^a healthcheck on Podman with cgroup manager cgroupfs: .*write healthcheck: none/,
    ],
    [
      "the image's, Podman on cgroupfs",
      engine('podman', 'cgroupfs'),
      spec('a', { healthcheck: 'image' }),
      /^healthcheck: image \(the image's own HEALTHCHECK\) on Podman/,
    ],
    ['none, Podman on cgroupfs', engine('podman', 'cgroupfs'), spec('a', { healthcheck: 'none' }), undefined],
    ['Podman with systemd', engine('podman', 'systemd'), spec('a'), undefined],
    ['dockerd on cgroupfs', engine('docker', 'cgroupfs'), spec('a'), undefined],
  ])('%s', (_name, info, agent, want) => {
    const problem = podmanHealthcheckProblem(agent, info);
    if (want === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(want);
  });
});

describe('Podman detection and exec start failures', () => {
  it.each([
    [{ Components: [{ Name: 'Podman Engine' }, { Name: 'Conmon' }] }, true],
    [{ Components: [{ Name: 'Engine' }, { Name: 'containerd' }] }, false],
    [{ Components: null }, false],
    [{}, false],
  ])('%j -> podman %s', (version, podman) => {
    expect(isPodmanVersion(version)).toBe(podman);
  });

  it.each([
    [
      'Error: runc: exec failed: unable to start container process: exec: "bash": executable file not found in $PATH: OCI runtime attempted to invoke a command that was not found',
      true,
    ],
    ['sh: nosuchcommand: not found', false],
  ])('%s -> never started %s', (output, failed) => {
    expect(RUNTIME_START_FAILURE.test(output)).toBe(failed);
  });
});
