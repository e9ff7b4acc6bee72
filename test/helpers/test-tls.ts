/**
 * TLS material for a test engine, made with openssl as the Docker docs describe: a CA, a server
 * certificate for 127.0.0.1 (IP SAN, serverAuth), a client certificate (clientAuth), and a second CA
 * that signed nothing the server holds (to prove verification is on).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface TestTls {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that did not sign the server's certificate. */
  otherCa: string;
}

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function signed(
  dir: string,
  name: string,
  issuer: { cert: string; key: string },
  ext: string,
): { cert: string; key: string } {
  const key = path.join(dir, `${name}-key.pem`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.pem`);
  const extFile = path.join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    csr,
    '-subj',
    `/CN=${name}`,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    issuer.cert,
    '-CAkey',
    issuer.key,
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    cert,
    '-extfile',
    extFile,
  );
  return { cert, key };
}

/** `dnsNames`: names the server's certificate is valid for besides 127.0.0.1 (an /etc/hosts alias). */
export function testTls(tag: string, dnsNames: string[] = []): TestTls {
  const dir = mkdtempSync(`/tmp/${tag}-tls-`);
  const makeCa = (name: string) => {
    const key = path.join(dir, `${name}-key.pem`);
    const cert = path.join(dir, `${name}.pem`);
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      `/CN=${tag} ${name}`,
    );
    return { cert, key };
  };
  const root = makeCa('ca');
  const other = makeCa('other-ca');
  const san = ['IP:127.0.0.1', ...dnsNames.map((n) => `DNS:${n}`)].join(',');
  const server = signed(dir, 'server', root, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  const client = signed(dir, 'client', root, 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    ca: root.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    otherCa: other.cert,
  };
}
