/**
 * Egress policy against the real engine: agents with an allow-list sit on an internal network whose only
 * other member is the project's gateway. Test servers are busybox httpd containers the test makes on the
 * gateway's outbound network, named by network aliases (Docker's embedded DNS resolves them for the
 * gateway), so nothing here ever talks to an address outside this machine.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { docker, dockerTry, dockerTryAsync, inspect, TEST_IMAGE } from '../helpers/docker.js';
import { eventually } from '../helpers/eventually.js';
import { shape } from '../helpers/output-schema.js';
import { type TestProject, testProject } from '../helpers/project.js';
import { spawnWatch } from '../helpers/watch-process.js';

const p: TestProject = testProject('i11eg');
const gateway = `agentctl-egress-gateway-${p.project}`;
const internal = `agentctl-egress-${p.project}`;
const outbound = `agentctl-egress-out-${p.project}`;
const web = `${p.project}-web`;
const coder = `${p.prefix}coder`;

function fleet(allow: string[], deny: string[]): void {
  p.write(
    [
      'agents:',
      '  coder:',
      '    command: [sleep, "3600"]',
      `    egress: { allow: ${JSON.stringify(allow)}, deny: ${JSON.stringify(deny)} }`,
      '  offline:',
      '    command: [sleep, "3600"]',
      '    egress: none',
    ].join('\n'),
  );
}

const ALLOW = ['web.test:8080', '*.corp.test:8080', 'localhost:8080'];
const DENY = ['bad.corp.test'];

/** What the gateway answers to `request` (printf escapes), sent from inside the agent. */
async function toGateway(request: string): Promise<string> {
  const nc = `printf '${request}' | nc -w 5 agentctl-egress-gateway 3128`;
  return (await dockerTryAsync('exec', coder, 'sh', '-c', nc)).stdout;
}

/** A plain HTTP request through the gateway, as a proxy-aware client sends it. */
function viaProxy(url: string): Promise<string> {
  return toGateway(`GET ${url} HTTP/1.0\\r\\n\\r\\n`);
}

function connect(hostPort: string): Promise<string> {
  return toGateway(
    `CONNECT ${hostPort} HTTP/1.1\\r\\nHost: ${hostPort}\\r\\n\\r\\nGET /index.html HTTP/1.0\\r\\n\\r\\n`,
  );
}

async function apply(): Promise<void> {
  const r = await agentctlAsync(['apply'], { cwd: p.dir });
  expect(r.status, r.stderr).toBe(0);
}

beforeAll(async () => {
  fleet(ALLOW, DENY);
  await apply();
  // The servers: one httpd answering for every test name, on the gateway's way out.
  const aliases = ['web.test', 'other.test', 'good.corp.test', 'bad.corp.test'].flatMap((a) => [
    '--network-alias',
    a,
  ]);
  docker(
    'run',
    '-d',
    '--name',
    web,
    '--user',
    '0',
    '--label',
    `agentctl-test=${p.project}`,
    '--network',
    outbound,
    ...aliases,
    TEST_IMAGE,
    'sh',
    '-c',
    'mkdir -p /tmp/w && echo hello-from-web > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w',
  );
});

afterAll(async () => {
  dockerTry('rm', '-f', web);
  await agentctlAsync(['down'], { cwd: p.dir });
  p.cleanup();
  for (const n of [internal, outbound]) dockerTry('network', 'rm', n);
});

describe('egress policy (real engine)', () => {
  it('puts the agent on the internal network only, with the proxy settings and no DNS of its own', async () => {
    const c = inspect(coder);
    expect(Object.keys(c.NetworkSettings.Networks)).toEqual([internal]);
    expect(JSON.parse(docker('network', 'inspect', internal))[0].Internal).toBe(true);
    expect(c.Config.Env).toEqual(
      expect.arrayContaining([
        'HTTP_PROXY=http://agentctl-egress-gateway:3128',
        'https_proxy=http://agentctl-egress-gateway:3128',
      ]),
    );
    expect(c.HostConfig.Dns).toEqual(['192.0.2.1']);
    expect(c.HostConfig.CapAdd ?? []).not.toContain('NET_RAW');
  });

  it('hardens the gateway like an agent', async () => {
    const g = inspect(gateway);
    expect(g.State.Running).toBe(true);
    expect(g.HostConfig.ReadonlyRootfs).toBe(true);
    expect(g.HostConfig.CapDrop).toEqual(['ALL']);
    expect(g.HostConfig.SecurityOpt).toEqual(['no-new-privileges:true']);
    expect(g.Config.User).toBe('65534:65534');
    expect(g.HostConfig.Privileged).toBe(false);
    expect(g.Mounts.map((m: { Destination: string; RW: boolean }) => [m.Destination, m.RW])).toEqual([
      ['/policy', false],
    ]);
  });

  it('lets an allowed host:port through, over plain HTTP and CONNECT', async () => {
    await eventually(
      'the allowed request',
      async () => (await viaProxy('http://web.test:8080/index.html')).includes('hello-from-web') || undefined,
      20_000,
    );
    expect(await viaProxy('http://good.corp.test:8080/index.html')).toMatch(
      /^HTTP\/1\.[01] 200[\s\S]*hello-from-web/,
    );
    expect(await connect('web.test:8080')).toMatch(
      /^HTTP\/1\.1 200 Connection Established[\s\S]*hello-from-web/,
    );
  });

  it('answers a denied request with a 403 naming the rule and saying other routes are blocked too', async () => {
    const other = await viaProxy('http://other.test:8080/');
    expect(other).toMatch(/^HTTP\/1\.1 403/);
    expect(other).toContain('Rule: (default deny)');
    expect(other).toContain('every other route');
    const bad = await viaProxy('http://bad.corp.test:8080/');
    expect(bad).toMatch(/^HTTP\/1\.1 403/);
    expect(bad).toContain('Rule: deny bad.corp.test');
    expect(await connect('other.test:8080')).toMatch(
      /^HTTP\/1\.1 403 Forbidden[\s\S]*Rule: \(default deny\)/,
    );
    expect(await viaProxy('http://web.test:9090/')).toMatch(/^HTTP\/1\.1 403/);
  });

  it('refuses an allowed name that resolves to loopback', async () => {
    const r = await viaProxy('http://localhost:8080/');
    expect(r).toMatch(/^HTTP\/1\.1 403/);
    expect(r).toMatch(/resolves to 127\.0\.0\.1, loopback/);
  });

  it('a direct connection to the server (ignoring the proxy) fails, and so does its IP through the proxy', async () => {
    const ip = inspect(web).NetworkSettings.Networks[outbound].IPAddress as string;
    const direct = await dockerTryAsync(
      'exec',
      coder,
      'sh',
      '-c',
      `echo x | timeout 5 nc -w 3 ${ip} 8080 && echo CONNECTED`,
    );
    expect(direct.stdout).not.toContain('CONNECTED');
    expect(await viaProxy(`http://${ip}:8080/`)).toMatch(/^HTTP\/1\.1 403/);
  });

  it('egress: none is no network at all', async () => {
    const o = inspect(`${p.prefix}offline`);
    expect(o.HostConfig.NetworkMode).toBe('none');
    expect(Object.keys(o.NetworkSettings.Networks)).toEqual(['none']);
  });

  it('logs every decision with time, agent, host, port, verdict and rule', async () => {
    const r = await agentctlAsync(['egress', 'log', '-o', 'json'], { cwd: p.dir });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          agent: 'coder',
          host: 'web.test',
          port: 8080,
          decision: 'allowed',
          rule: 'allow web.test:8080',
        }),
        expect.objectContaining({
          agent: 'coder',
          host: 'bad.corp.test',
          decision: 'denied',
          rule: 'deny bad.corp.test',
        }),
      ]),
    );
    // Each line as documented (schemas/output/egress-log.json), naming the project.
    for (const l of lines) shape('egress-log')(l);
    expect(new Set(lines.map((l) => l.project))).toEqual(new Set([p.project]));
    expect((await agentctlAsync(['egress', 'log'], { cwd: p.dir })).stdout).toMatch(
      /DENIED +coder +GET other\.test:8080 +\(default deny\)/,
    );
  });

  it('ps shows the gateway; diff is clean after apply', async () => {
    expect((await agentctlAsync(['ps'], { cwd: p.dir })).stdout).toMatch(
      /\(egress gateway\) +agentctl-egress-gateway-\S+ +running/,
    );
    expect((await agentctlAsync(['diff'], { cwd: p.dir })).status).toBe(0);
  });

  it('changes the rules in place: same container, the new policy holds within a second of apply', async () => {
    const before = inspect(coder).Id as string;
    fleet([...ALLOW, 'other.test:8080'], [...DENY, 'web.test']);
    const d = await agentctlAsync(['diff'], { cwd: p.dir });
    expect(d.status).toBe(2);
    expect(d.stdout).toMatch(/~ coder will be updated in place/);
    expect(d.stdout).toMatch(/egress\.allow: .* -> .*other\.test:8080/);
    expect(d.stdout).not.toMatch(/recreated/);
    await apply();
    const applied = Date.now();
    await eventually(
      'the new policy',
      async () =>
        (await viaProxy('http://other.test:8080/index.html')).includes('hello-from-web') || undefined,
      5_000,
    );
    expect(Date.now() - applied).toBeLessThan(1_000 + 500); // one nc round trip of slack
    expect(await viaProxy('http://web.test:8080/')).toContain('Rule: deny web.test');
    expect(inspect(coder).Id).toBe(before);
  });

  it('a removed gateway leaves policy agents with no way out; apply brings it back', async () => {
    docker('rm', '-f', gateway);
    expect(await viaProxy('http://other.test:8080/index.html')).not.toContain('hello-from-web');
    const d = await agentctlAsync(['diff'], { cwd: p.dir });
    expect(d.stdout).toMatch(/\+ egress gateway will be created/);
    await apply();
    await eventually(
      'the gateway back',
      async () =>
        (await viaProxy('http://other.test:8080/index.html')).includes('hello-from-web') || undefined,
      20_000,
    );
  });

  it('apply --watch restarts a stopped gateway', async () => {
    const w = spawnWatch(['--resync', '600'], { cwd: p.dir });
    try {
      await w.waitFor('watching', (e) => e.type === 'watching');
      docker('stop', '-t', '1', gateway);
      await eventually(
        'the gateway running again',
        () => (inspect(gateway).State.Running as boolean) || undefined,
        30_000,
      );
      await eventually(
        'requests through it again',
        async () =>
          (await viaProxy('http://other.test:8080/index.html')).includes('hello-from-web') || undefined,
        20_000,
      );
    } finally {
      w.child.kill('SIGTERM');
      await w.exited;
    }
  });

  it('refuses an egress policy together with another network, and NET_RAW', async () => {
    writeFileSync(
      `${p.dir}/bad.yaml`,
      'version: 1\nagents:\n  a:\n    network: host\n    egress: { allow: [x.test] }\n  b:\n    capabilities: { add: [NET_RAW] }\n    egress: { allow: [x.test] }\n',
    );
    const r = await agentctlAsync(['validate', '-f', 'bad.yaml'], { cwd: p.dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /bad\.yaml:5:\d+: agents\.a\.egress: egress with rules decides the agent's network: remove network: host/,
    );
    expect(r.stderr).toMatch(/agents\.b\.egress: an agent with egress rules cannot have NET_RAW/);
  });

  it('down removes the gateway and its networks', async () => {
    dockerTry('rm', '-f', web); // the test's server holds the outbound network
    expect((await agentctlAsync(['down'], { cwd: p.dir })).status).toBe(0);
    expect(dockerTry('inspect', gateway).status).not.toBe(0);
    expect(dockerTry('network', 'inspect', internal).status).not.toBe(0);
    expect(dockerTry('network', 'inspect', outbound).status).not.toBe(0);
  });
});
