import { describe, expect, it } from 'vitest';
import { createBody } from '../../src/docker/container-config.js';
import { firstFileInTar } from '../../src/docker/tar.js';
import { LABEL } from '../../src/labels.js';
import { specHash } from '../../src/spec-hash.js';
import { spec } from '../helpers/specs.js';

describe('createBody', () => {
  it('maps every hardened default onto the Engine API', () => {
    const s = spec('a', {
      command: ['sleep', '1'],
      user: '1000:1000',
      runtime: 'runsc',
      labels: { team: 'x' },
    });
    const body = createBody('demo', s);
    expect(body).toMatchObject({
      Image: 'claude-agent:latest',
      Cmd: ['sleep', '1'],
      User: '1000:1000',
      WorkingDir: '/mnt',
      Env: ['AGENT_ID=a', 'AGENT_WORK_DIR=/mnt', 'PYTHONPATH=/mnt', 'TMPDIR=/tmp/agent'],
      HostConfig: {
        Memory: 2 * 1024 ** 3,
        MemorySwap: 2 * 1024 ** 3,
        NanoCpus: 2e9,
        PidsLimit: 1024,
        Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }],
        ReadonlyRootfs: true,
        NetworkMode: 'bridge',
        CapDrop: ['ALL'],
        CapAdd: ['CHOWN', 'DAC_OVERRIDE', 'SETGID', 'SETUID'],
        SecurityOpt: ['no-new-privileges:true'],
        Init: true,
        LogConfig: { Type: 'json-file', Config: { 'max-file': '3', 'max-size': '10m' } },
        RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
        Runtime: 'runsc',
        Mounts: [
          { Type: 'bind', Source: '/srv/rt/agent-working-directory/a', Target: '/mnt', ReadOnly: false },
        ],
      },
    });
    expect(body.Labels).toMatchObject({
      team: 'x',
      [LABEL.project]: 'demo',
      [LABEL.agent]: 'a',
      [LABEL.name]: 'claude-agent-a',
      [LABEL.specHash]: specHash(s),
    });
  });

  it("gives the tmpfs mounts to the agent's user, so a restart cannot take them away", () => {
    const body = createBody('demo', spec('a'), { uid: 1000, gid: 1001 });
    expect(body.HostConfig.Tmpfs).toEqual({
      '/home/agent/.cache': 'rw,noexec,nosuid,size=50m,uid=1000,gid=1001',
      '/tmp/agent': 'rw,noexec,nosuid,size=100m,uid=1000,gid=1001',
    });
    expect(createBody('demo', spec('a')).HostConfig.Tmpfs['/tmp/agent']).toBe('rw,noexec,nosuid,size=100m');
  });

  it('leaves Cmd, User and Runtime to the image and engine when unset', () => {
    const body = createBody('demo', spec('a'));
    expect('Cmd' in body).toBe(false);
    expect('User' in body).toBe(false);
    expect('Runtime' in body.HostConfig).toBe(false);
  });

  it('user labels cannot override ours', () => {
    const body = createBody('demo', spec('a', { labels: { [LABEL.project]: 'other' } }));
    expect(body.Labels[LABEL.project]).toBe('demo');
  });
});

describe('firstFileInTar', () => {
  function entry(name: string, type: string, data: Buffer): Buffer {
    const header = Buffer.alloc(512);
    header.write(name, 0);
    header.write(data.length.toString(8).padStart(11, '0'), 124);
    header.write(type, 156);
    const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
    data.copy(padded);
    return Buffer.concat([header, padded]);
  }

  it('skips a pax header and returns the first regular file', () => {
    const tar = Buffer.concat([
      entry('pax', 'x', Buffer.from('30 path=passwd\n'.repeat(40))),
      entry('passwd', '0', Buffer.from('agent:x:1000:1000::/home/agent:/bin/sh\n')),
      Buffer.alloc(1024),
    ]);
    expect(firstFileInTar(tar)?.toString()).toBe('agent:x:1000:1000::/home/agent:/bin/sh\n');
  });

  it('returns undefined for an archive with no regular file', () => {
    expect(
      firstFileInTar(Buffer.concat([entry('d', '5', Buffer.alloc(0)), Buffer.alloc(1024)])),
    ).toBeUndefined();
  });
});
