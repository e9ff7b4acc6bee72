/**
 * apply's bridge-port refusal (preflight) counts a network's ports as the engine reports them (its network info),
 * which is what the kernel's bridge holds: so an engine in a network namespace of its own, whose
 * docker0 this host's /sys does not show, is judged by its own bridge.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/docker/engine.js';
import { docker, dockerTry, TEST_IMAGE } from '../helpers/docker.js';

describe('bridge ports from the engine (real engine)', () => {
  const net = `agentctl-bp-${randomBytes(3).toString('hex')}`;
  const names = [`${net}-a`, `${net}-b`];
  afterEach(() => {
    for (const n of names) dockerTry('rm', '-f', n);
    dockerTry('network', 'rm', net);
  });

  it("a bridge network's Linux bridge and its ports, as the kernel has them", async () => {
    docker('network', 'create', '--driver', 'bridge', net);
    for (const n of names) docker('run', '-d', '--name', n, '--network', net, TEST_IMAGE, 'sleep', '600');
    const info = await new DockerEngine().inspectNetwork(net);
    expect(info?.driver).toBe('bridge');
    expect(info?.bridge).toMatch(/^br-[0-9a-f]{12}$/);
    const ids = names.map((n) => docker('inspect', '--format', '{{.Id}}', n)).sort();
    expect([...(info?.attached ?? [])].sort()).toEqual(ids);
    expect(readdirSync(`/sys/class/net/${info?.bridge}/brif`)).toHaveLength(2);
    // The default network names its bridge in its options.
    expect((await new DockerEngine().inspectNetwork('bridge'))?.bridge).toBe('docker0');
  });
});
