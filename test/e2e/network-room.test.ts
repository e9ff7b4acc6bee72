/**
 * A network whose IPv4 pool is smaller than the fleet: apply refuses before it creates anything, with
 * the figures, instead of starting the agents that fit and failing the rest at their start ("no
 * available IPv4 addresses on this network's address pools"). The figures are the engine's: a /29 gives
 * containers exactly 5 addresses, so 5 agents apply and a 6th is refused.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/docker/engine.js';
import { agentctl } from '../helpers/cli.js';
import { dockerTry, projectContainers, TEST_IMAGE } from '../helpers/docker.js';
import { agentsBlock, testProjects } from '../helpers/project.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `a${i + 1}`);

/** A bridge network with a /29 of its own (another subnet is tried when one overlaps a network). */
function tinyNetwork(name: string): string {
  for (let i = 0; i < 20; i++) {
    const subnet = `10.213.${randomInt(256)}.${8 * randomInt(32)}/29`;
    if (dockerTry('network', 'create', '--driver', 'bridge', '--subnet', subnet, name).status === 0)
      return subnet;
  }
  throw new Error('no free /29 under 10.213.0.0/16');
}

describe('room on a network (real engine)', () => {
  const net = `agentctl-room-${randomBytes(3).toString('hex')}`;
  const project = testProjects();
  afterAll(() => {
    dockerTry('network', 'rm', net);
  });

  it('refuses agents past a /29 before creating any; the 5 that fit apply', async () => {
    const subnet = tinyNetwork(net);
    const info = await new DockerEngine().inspectNetwork(net);
    // Some engines name no gateway in a network's IPAM config (it still takes one of the addresses).
    expect(info?.ipv4Pools).toMatchObject([{ subnet }]);
    expect(info?.attached).toEqual([]);

    const p = project('ac9room');
    p.write(agentsBlock(ids(6)), `  network: ${net}\n  command: [sleep, '600']`);
    const refused = agentctl(['apply', '--wait-ready', '0'], { cwd: p.dir });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      `preflight failed, nothing was changed: network ${net}: its IPv4 pool (${subnet}) gives containers 5 address(es), 0 taken; 6 more agent(s) on it leave 1 (a6) without one`,
    );
    expect(projectContainers(p.project)).toEqual([]);
    // diff shows the same refusal, changing nothing.
    expect(agentctl(['diff'], { cwd: p.dir }).stdout + agentctl(['diff'], { cwd: p.dir }).stderr).toMatch(
      /gives containers 5 address\(es\)/,
    );

    p.write(agentsBlock(ids(5)), `  network: ${net}\n  command: [sleep, '600']`);
    const fits = agentctl(['apply', '--wait-ready', '0'], { cwd: p.dir });
    expect(fits.status, fits.stderr).toBe(0);
    expect(projectContainers(p.project)).toHaveLength(5);
    expect((await new DockerEngine().inspectNetwork(net))?.attached).toHaveLength(5);
    // The engine agrees: a 6th container started on it gets no address.
    const sixth = `${net}-sixth`;
    const run = dockerTry('run', '-d', '--name', sixth, '--network', net, TEST_IMAGE, 'sleep', '600');
    dockerTry('rm', '-f', sixth);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/no available IPv4 addresses on this network's address pools/);

    // Full now: one more is refused, and the 5 running are untouched.
    p.write(agentsBlock(ids(6)), `  network: ${net}\n  command: [sleep, '600']`);
    const more = agentctl(['apply', '--wait-ready', '0'], { cwd: p.dir });
    expect(more.status).toBe(1);
    expect(more.stderr).toMatch(
      /gives containers 5 address\(es\), 5 taken; 1 more agent\(s\) on it leave 1 \(a6\) without one/,
    );
    expect(projectContainers(p.project)).toHaveLength(5);
  });
});
