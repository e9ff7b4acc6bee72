/**
 * How the engine client reaches one engine: the HTTP request function, a pooled keep-alive agent and
 * the options of a request outside the pool, for each transport:
 * - unix socket, or plain tcp to an engine on this host: node:http;
 * - TLS (`tcp://` + ca/cert/key): node:https, the engine's certificate always verified against the CA
 *   (there is no switch to turn that off), our certificate and key presented;
 * - ssh: dial-stdio channels on one ssh connection (ssh-transport.ts).
 * Transport failures (refused, certificate rejected, ssh) become AgentctlErrors naming the engine;
 * `label` is how messages name it (`engine gpu-box (ssh://ops@gpu-box)`, or the address alone).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import os from 'node:os';
import { AgentctlError } from '../errors.js';
import { describeEngineAddress, type EngineAddress, type TlsFiles } from './engine-address.js';
import { SshTransport } from './ssh-transport.js';

export interface EngineConnection {
  /** The address as a user writes it. */
  readonly address: string;
  /** How messages name the engine. */
  readonly label: string;
  readonly request: typeof http.request;
  /** Options for a request: where, and through the pool (`pooled`) or a connection of its own. */
  options(pooled: boolean): http.RequestOptions;
  /** A transport error as a clear AgentctlError naming the engine; anything else unchanged. */
  explain(err: unknown): unknown;
  /** The same engine for dockerode (build). */
  dockerodeOptions(): Record<string, unknown>;
  /** The ssh transport, when there is one (tests and the bench count its connections). */
  readonly ssh?: SshTransport;
  close(): void;
}

/** `name`: the engine's name in agents.yaml; messages then say `engine NAME (ADDRESS)`. */
export function openEngineConnection(a: EngineAddress, name?: string): EngineConnection {
  const address = describeEngineAddress(a);
  const label = name ? `engine ${name} (${address})` : `the Docker engine at ${address}`;
  if (a.ssh) return sshConnection(a, address, label);
  if (a.tls) return tlsConnection(a, a.tls, address, label);
  return plainConnection(a, address, label, name !== undefined);
}

function plainConnection(a: EngineAddress, address: string, label: string, named: boolean): EngineConnection {
  const where = a.socketPath ? { socketPath: a.socketPath } : { host: a.host, port: a.port };
  // `servername: ''` skips the agent's guess at a TLS server name for each new connection, whose first
  // use compiles Node's IPv6 regexp: ~6 ms of every CLI run, for a name plain HTTP never uses.
  //
  // No socket limit: a running exec holds its connection until the command ends, so with a limit, N
  // long commands would leave the calls that end them (the timeout's kill exec) queued forever. Callers
  // that fan out bound themselves (mapLimit).
  const agent = new http.Agent({ keepAlive: true, ...({ servername: '' } as http.AgentOptions) });
  return {
    address,
    label,
    request: http.request,
    options: (pooled) => ({ ...where, agent: pooled ? agent : false }),
    // The local engine keeps the messages the rest of agentctl gives for a socket that does not answer
    // (they name DOCKER_HOST); another engine of the file is named, so the user knows which one.
    explain: named ? (err) => explainSocket(err, label) : (err) => err,
    dockerodeOptions: () => ({ ...where }),
    close: () => agent.destroy(),
  };
}

/** The PEM files, read now, so a missing or wrong file is a clear error before any call. */
function readTlsFiles(files: TlsFiles, label: string): { ca: Buffer; cert: Buffer; key: Buffer } {
  const read = (what: keyof TlsFiles): Buffer => {
    try {
      return readFileSync(files[what]);
    } catch (err) {
      throw new AgentctlError(
        'engine-unreachable',
        `${label}: its TLS ${what} file ${files[what]} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  };
  const pem = { ca: read('ca'), cert: read('cert'), key: read('key') };
  try {
    tls.createSecureContext(pem);
  } catch (err) {
    throw new AgentctlError(
      'engine-unreachable',
      `${label}: its TLS files do not make a client identity (ca ${files.ca}, cert ${files.cert}, key ${files.key}): ${(err as Error).message}`,
      { cause: err },
    );
  }
  return pem;
}

function tlsConnection(a: EngineAddress, files: TlsFiles, address: string, label: string): EngineConnection {
  let pem: { ca: Buffer; cert: Buffer; key: Buffer } | undefined;
  let agent: https.Agent | undefined;
  const identity = () => (pem ??= readTlsFiles(files, label));
  const pooled = () =>
    (agent ??= new https.Agent({ keepAlive: true, ...identity(), rejectUnauthorized: true }));
  return {
    address: `${address} (TLS)`,
    label,
    request: https.request,
    options: (isPooled) => ({
      host: a.host,
      port: a.port,
      ...(isPooled ? { agent: pooled() } : { agent: false, ...identity(), rejectUnauthorized: true }),
    }),
    explain: (err) => explainTls(err, files, label),
    dockerodeOptions: () => ({
      protocol: 'https',
      host: a.host,
      port: a.port,
      ...identity(),
    }),
    close: () => agent?.destroy(),
  };
}

const CERT_CODES: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'is not signed by the CA in',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'is not signed by the CA in',
  SELF_SIGNED_CERT_IN_CHAIN: 'is not signed by the CA in',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'is self-signed, not signed by the CA in',
  CERT_HAS_EXPIRED: 'has expired (checked against the CA in',
  CERT_NOT_YET_VALID: 'is not valid yet (checked against the CA in',
};

function explainTls(err: unknown, files: TlsFiles, label: string): unknown {
  if (err instanceof AgentctlError) return err;
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = e?.code ?? '';
  const cert = CERT_CODES[code];
  if (cert) {
    return new AgentctlError(
      'engine-unreachable',
      `${label}: the engine's TLS certificate ${cert} ${files.ca} (${code}): refused`,
      { cause: err },
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new AgentctlError(
      'engine-unreachable',
      `${label}: the engine's TLS certificate is not for this host name (${e.reason ?? e.message}): refused`,
      { cause: err },
    );
  }
  const alert = /alert ([a-z ]+?)(?::|$)/im.exec(e?.message ?? '')?.[1];
  if (alert) {
    return new AgentctlError(
      'engine-unreachable',
      `${label}: the engine rejected our TLS client certificate ${files.cert} (TLS alert: ${alert}); it must be a client certificate (extendedKeyUsage clientAuth) signed by the CA the engine trusts (--tlscacert)`,
      { cause: err },
    );
  }
  if (/handshake|ssl|tls/i.test(e?.message ?? '') || code === 'EPROTO') {
    return new AgentctlError(
      'engine-unreachable',
      `${label}: the TLS handshake failed (${(e.message ?? '').split('\n')[0]}); is it an engine listening with --tlsverify?`,
      { cause: err },
    );
  }
  return explainSocket(err, label);
}

function explainSocket(err: unknown, label: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (
    e?.code === 'ECONNREFUSED' ||
    e?.code === 'EHOSTUNREACH' ||
    e?.code === 'ETIMEDOUT' ||
    // A unix socket that is not there, or not ours to open.
    e?.code === 'ENOENT' ||
    e?.code === 'EACCES'
  ) {
    return new AgentctlError(
      'engine-unreachable',
      `${label}: cannot connect (${e.code}); is dockerd listening there?`,
      {
        cause: err,
      },
    );
  }
  if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN') {
    return new AgentctlError('engine-unreachable', `${label}: the host name does not resolve (${e.code})`, {
      cause: err,
    });
  }
  return err;
}

function sshConnection(a: EngineAddress, address: string, label: string): EngineConnection {
  const ssh = new SshTransport({
    host: a.host ?? '',
    port: a.port ?? 22,
    user: a.ssh?.user ?? os.userInfo().username,
    identityFile: a.ssh?.identityFile,
    label,
  });
  // host/port only name the pool entry and the Host header: the channels go wherever the ssh link goes.
  const where = { host: a.host, port: a.port };
  return {
    address,
    label,
    ssh,
    request: http.request,
    options: (pooled) =>
      pooled
        ? { ...where, agent: ssh.agent }
        : { ...where, agent: false, createConnection: ssh.createConnection as never },
    explain: (err) => err,
    dockerodeOptions: () => ({ protocol: 'http', ...where, agent: ssh.agent }),
    close: () => ssh.close(),
  };
}
