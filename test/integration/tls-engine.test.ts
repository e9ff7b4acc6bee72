/**
 * An engine reached over TLS, for real: a private dockerd listening with --tlsverify on 127.0.0.1 (in
 * the host's network namespace, on a bridge of its own), certificates made by the test with openssl.
 * The engine's certificate is always verified and ours presented; every bad file is a clear error.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/docker/engine.js';
import type { TlsFiles } from '../../src/docker/engine-address.js';
import type { CreateContainerBody } from '../../src/docker/port.js';
import { TEST_IMAGE } from '../helpers/docker.js';
import type { TestDockerd } from '../helpers/test-dockerd.js';
import type { TestTls } from '../helpers/test-tls.js';
import { tlsDockerd, type TlsDockerd } from '../helpers/tls-dockerd.js';

describe('an engine over TLS (private dockerd with --tlsverify)', () => {
  let engineTls: TlsDockerd | undefined;
  let d: TestDockerd;
  let tls: TestTls;
  let port: number;
  let files: TlsFiles;
  const engines: DockerEngine[] = [];
  const engine = (f: TlsFiles = files): DockerEngine => {
    const e = new DockerEngine({ host: '127.0.0.1', port, tls: f }, 30_000, 'lab');
    engines.push(e);
    return e;
  };
  const failure = (e: DockerEngine) =>
    e.info().then(
      () => new Error('no error'),
      (x: Error) => x,
    );

  beforeAll(async () => {
    engineTls = await tlsDockerd('i13-tls', { name: 'i13tls0', cidr: '10.213.13.1/24' });
    ({ d, tls, port } = engineTls);
    files = { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey };
  }, 120_000);

  afterAll(async () => {
    for (const e of engines) (e as unknown as { http: { close(): void } }).http.close();
    await engineTls?.cleanup();
  }, 120_000);

  it('drives that engine: info, create, start, exec with stdin', async () => {
    const e = engine();
    expect((await e.info()).serverVersion).toBe(d.docker('version', '--format', '{{.Server.Version}}'));
    const body = {
      Image: TEST_IMAGE,
      Cmd: ['sleep', '600'],
      Env: [],
      WorkingDir: '/',
      Labels: { 'i13.test': 'tls' },
      HostConfig: { NetworkMode: 'none', Mounts: [] },
    } as unknown as CreateContainerBody;
    const id = await e.createContainer('i13-tls-one', body);
    await e.startContainer(id);
    expect(
      d.docker('inspect', '--format', '{{.State.Running}} {{index .Config.Labels "i13.test"}}', id),
    ).toBe('true tls');
    const out: Buffer[] = [];
    const r = await e.exec(
      id,
      { cmd: ['sh', '-c', 'tr a-z A-Z'], stdin: Buffer.from('over tls\n') },
      { onOutput: (_s, c) => void out.push(c) },
    );
    expect(r).toMatchObject({ exitCode: 0 });
    expect(Buffer.concat(out).toString()).toBe('OVER TLS\n');
  }, 60_000);

  it('DOCKER_HOST with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, as the docker CLI reads them', async () => {
    const dir = mkdtempSync(path.join(tls.dir, 'certpath-'));
    copyFileSync(tls.ca, path.join(dir, 'ca.pem'));
    copyFileSync(tls.clientCert, path.join(dir, 'cert.pem'));
    copyFileSync(tls.clientKey, path.join(dir, 'key.pem'));
    const saved = { ...process.env };
    Object.assign(process.env, {
      DOCKER_HOST: `tcp://127.0.0.1:${port}`,
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: dir,
    });
    try {
      const e = new DockerEngine(undefined, 30_000);
      engines.push(e);
      expect((await e.info()).serverVersion).toBeTruthy();
    } finally {
      for (const k of ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it('an engine certificate not signed by our CA is refused: verification is always on', async () => {
    const err = await failure(engine({ ...files, ca: tls.otherCa }));
    expect(err.message).toBe(
      `engine lab (tcp://127.0.0.1:${port}): the engine's TLS certificate is not signed by the CA in ${tls.otherCa} (UNABLE_TO_VERIFY_LEAF_SIGNATURE): refused`,
    );
  });

  it('a client certificate the engine does not accept: the engine refusing it says so', async () => {
    // The server's own certificate is not one for a client (no clientAuth): dockerd rejects it.
    const err = await failure(engine({ ...files, cert: tls.serverCert, key: tls.serverKey }));
    expect(err.message).toMatch(
      /^engine lab \(tcp:\/\/127\.0\.0\.1:\d+\): the engine rejected our TLS client certificate .*server\.pem \(TLS alert: bad certificate\); it must be a client certificate/,
    );
  });

  it('missing, unreadable or mismatched files: errors naming the file', async () => {
    const missing = path.join(tls.dir, 'nope.pem');
    expect((await failure(engine({ ...files, key: missing }))).message).toBe(
      `engine lab (tcp://127.0.0.1:${port}): its TLS key file ${missing} cannot be read (ENOENT)`,
    );
    const garbage = path.join(tls.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    expect((await failure(engine({ ...files, cert: garbage }))).message).toMatch(
      /its TLS files do not make a client identity \(ca .*, cert .*garbage\.pem, key .*\)/,
    );
    // A key that is not the certificate's.
    expect((await failure(engine({ ...files, key: tls.serverKey }))).message).toMatch(
      /its TLS files do not make a client identity .*key values mismatch/,
    );
  });
});
