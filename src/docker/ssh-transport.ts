/**
 * An engine reached over ssh, as `docker -H ssh://...` reaches it, minus its cost: ONE ssh connection
 * (TCP no-delay) per engine, and each HTTP connection of the engine client is a channel on it running
 * `docker system dial-stdio` on the remote host (the docker CLI there bridges the channel to its engine's
 * socket). Channels are pooled keep-alive HTTP connections like local sockets, so a call pays no
 * handshake; a new one costs one channel open (a round trip plus starting the remote docker CLI).
 * Opening an ssh connection per request instead (what docker-modem does) costs 200-360 ms a call.
 *
 * The host key must be in the user's known_hosts (never trusted on first use); keys come from ssh-agent,
 * the engine's identityFile or the default key files (ssh-auth.ts). A connection that drops is replaced
 * by the next call. An sshd allows a limited number of sessions per connection (MaxSessions, 10 by
 * default): past it, a second connection is opened for the extra channels rather than failing the call.
 *
 * Failures are AgentctlErrors naming the engine: unreachable, host key unknown or changed, no key
 * accepted, no docker CLI on the remote host.
 */
import http from 'node:http';
import net from 'node:net';
import { Duplex } from 'node:stream';
import type { Client, ClientChannel, ServerHostKeyAlgorithm } from 'ssh2';
import { AgentctlError } from '../errors.js';
import { knownHostsName, knownKeyTypes, verifyHostKey } from './known-hosts.js';
import { authHandler, readKnownHosts, type SshCredentials, sshCredentials } from './ssh-auth.js';

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  identityFile?: string;
  /** How messages name the engine, e.g. `engine gpu-box (ssh://ops@gpu-box)`. */
  label: string;
}

const DIAL_COMMAND = 'docker system dial-stdio';
const HANDSHAKE_TIMEOUT_MS = 20_000;
/** Idle pooled channels kept open: each holds a docker CLI process on the remote host. */
const MAX_IDLE_CHANNELS = 8;

/** Host key algorithms this client accepts, best first; those known_hosts holds for the host go first. */
const HOST_KEY_ALGORITHMS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
];

function hostKeyAlgorithms(knownTypes: string[]): ServerHostKeyAlgorithm[] {
  const wanted = knownTypes.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256'] : [t]));
  const first = HOST_KEY_ALGORITHMS.filter((a) => wanted.includes(a as string));
  return [...first, ...HOST_KEY_ALGORITHMS.filter((a) => !first.includes(a))];
}

export class SshTransport {
  private links: SshLink[] = [];
  /** The pooled agent: every HTTP connection it opens is a new dial-stdio channel. */
  readonly agent: http.Agent;

  constructor(readonly target: SshTarget) {
    const open = this.createConnection;
    this.agent = new (class extends http.Agent {
      override createConnection(_opts: object, cb: (err: Error | null, s?: Duplex) => void): undefined {
        open(_opts, cb);
        return undefined;
      }
    })({ keepAlive: true, maxFreeSockets: MAX_IDLE_CHANNELS });
  }

  /** For a request outside the pool (`agent: false`): its own channel, closed with the request. */
  readonly createConnection = (_opts: object, cb: (err: Error | null, s?: Duplex) => void): void => {
    this.channel().then(
      (s) => cb(null, s),
      (err: Error) => cb(err),
    );
  };

  /** Opens a dial-stdio channel on a live connection, connecting (again) when there is none. */
  async channel(): Promise<Duplex> {
    for (;;) {
      const link = this.links.find((l) => !l.closed && l.hasRoom()) ?? this.newLink();
      const socket = await link.open();
      if (socket) return socket;
      // The server refused one more session on this connection: `link` is full now, use another.
    }
  }

  /** How many ssh connections are open (for tests and the bench: one, unless MaxSessions was hit). */
  connectionCount(): number {
    return this.links.filter((l) => !l.closed).length;
  }

  close(): void {
    this.agent.destroy();
    for (const l of this.links) l.close();
    this.links = [];
  }

  private newLink(): SshLink {
    const link = new SshLink(this.target, () => {
      this.links = this.links.filter((l) => l !== link);
    });
    this.links.push(link);
    return link;
  }
}

/** One ssh connection and the channels open on it. */
class SshLink {
  closed = false;
  private client?: Client;
  private readonly ready: Promise<void>;
  private readonly sockets = new Set<ChannelSocket>();
  private readonly referenced = new Set<ChannelSocket>();
  /** Channels being opened: while any is, the connection keeps the process alive. */
  private opening = 0;
  /** How many channels the server allows on this connection, once it refused one more. */
  private capacity = Infinity;
  private tcp?: net.Socket;

  constructor(
    private readonly target: SshTarget,
    private readonly onClose: () => void,
  ) {
    this.ready = this.connect();
    this.ready.catch(() => undefined);
  }

  hasRoom(): boolean {
    return this.sockets.size + this.opening < this.capacity;
  }

  /** A new channel; undefined when the server refused it for lack of sessions (try another link). */
  async open(): Promise<ChannelSocket | undefined> {
    this.opening++;
    this.updateRef();
    try {
      await this.ready;
      // The socket is counted as soon as the server confirms it (in the callback, not after an await):
      // a refusal that arrives in the same packet batch must see every channel confirmed before it.
      const socket = await new Promise<ChannelSocket>((resolve, reject) => {
        if (!this.client) return reject(new Error('not connected'));
        this.client.exec(DIAL_COMMAND, (err, ch) => {
          if (err) return reject(err);
          const s = new ChannelSocket(ch, this, this.target);
          this.sockets.add(s);
          this.referenced.add(s);
          resolve(s);
        });
      });
      return socket;
    } catch (err) {
      // OpenSSH answers "open failed" (CONNECT_FAILED, or ADMINISTRATIVELY_PROHIBITED elsewhere) once its
      // MaxSessions for this connection is reached: this connection is full, another one takes the rest.
      // ssh2 reports a channel only once its command runs, so channels the server did open may still be
      // counted in `opening`: the connection holds at most the others (this one failed), a bound that
      // tightens with each refusal of a burst.
      const reason = (err as { reason?: unknown }).reason;
      const others = this.sockets.size + this.opening - 1;
      if ((reason === 1 || reason === 2) && others > 0) {
        this.capacity = Math.min(this.capacity, others);
        return undefined;
      }
      if (err instanceof AgentctlError) throw err;
      throw new AgentctlError(
        'engine-unreachable',
        `${this.target.label}: cannot open an ssh channel for \`${DIAL_COMMAND}\`: ${(err as Error).message}`,
        { cause: err },
      );
    } finally {
      this.opening--;
      this.updateRef();
    }
  }

  /** A channel's socket is in use (`true`) or idle in the pool: idle ones do not keep the process alive. */
  setReferenced(socket: ChannelSocket, on: boolean): void {
    if (on) this.referenced.add(socket);
    else this.referenced.delete(socket);
    this.updateRef();
  }

  forget(socket: ChannelSocket): void {
    this.sockets.delete(socket);
    this.referenced.delete(socket);
    this.updateRef();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client?.end();
    this.tcp?.destroy();
  }

  private updateRef(): void {
    if (!this.tcp) return;
    if (this.opening > 0 || this.referenced.size > 0) this.tcp.ref();
    else this.tcp.unref();
  }

  private async connect(): Promise<void> {
    const t = this.target;
    // Loaded here, not at startup: ssh2 costs tens of milliseconds to load, and most runs use no ssh engine.
    // A CommonJS module: under plain Node its exports are the default export's properties.
    const mod = await import('ssh2');
    const ssh2 = (mod as unknown as { default?: typeof mod }).default ?? mod;
    const client = new ssh2.Client();
    this.client = client;
    return new Promise<void>((resolve, reject) => {
      let creds: SshCredentials;
      try {
        creds = sshCredentials(ssh2.utils.parseKey, t.label, t.identityFile);
      } catch (err) {
        this.closed = true;
        this.onClose();
        return reject(err);
      }
      const known = readKnownHosts();
      let hostKeyRefusal: string | undefined;
      let agentProblem: string | undefined;
      let settled = false;
      const fail = (err: Error) => {
        if (!settled) {
          settled = true;
          reject(err);
        }
        this.close();
      };

      const tcp = net.connect({
        host: t.host,
        port: t.port,
        noDelay: true,
        keepAlive: true,
        keepAliveInitialDelay: 15_000,
      });
      this.tcp = tcp;
      this.updateRef();

      client.on('ready', () => {
        settled = true;
        resolve();
      });
      client.on('error', (err: Error & { level?: string }) => {
        // The agent failing is not fatal: the next method is tried. Kept for the message.
        if (err.level === 'agent') {
          agentProblem = err.message;
          return;
        }
        if (settled) return this.dropped(err.message);
        fail(this.explain(err, creds, hostKeyRefusal, agentProblem));
      });
      client.on('close', () => {
        fail(
          new AgentctlError(
            'engine-unreachable',
            `${t.label}: the ssh server closed the connection during the handshake`,
          ),
        );
        this.dropped('the ssh connection closed');
      });

      client.connect({
        sock: tcp,
        username: t.user,
        authHandler: authHandler(t.user, creds),
        readyTimeout: HANDSHAKE_TIMEOUT_MS,
        algorithms: { serverHostKey: hostKeyAlgorithms(knownKeyTypes(known.texts, t.host, t.port)) },
        hostVerifier: (key: Buffer) => {
          const v = verifyHostKey(known.texts, t.host, t.port, key);
          if (v.ok) return true;
          hostKeyRefusal = hostKeyMessage(t, v, known.files);
          return false;
        },
      });
    });
  }

  /** The connection is gone: its channels fail, the transport forgets it, the next call reconnects. */
  private dropped(why: string): void {
    this.closed = true;
    const err = new AgentctlError('engine-unreachable', `${this.target.label}: ${why}`);
    for (const s of [...this.sockets]) s.destroy(err);
    this.tcp?.destroy();
    this.onClose();
  }

  private explain(
    err: Error & { level?: string; code?: string },
    creds: SshCredentials,
    hostKeyRefusal: string | undefined,
    agentProblem: string | undefined,
  ): AgentctlError {
    const t = this.target;
    if (hostKeyRefusal) return new AgentctlError('engine-unreachable', hostKeyRefusal, { cause: err });
    if (err.level === 'client-authentication') {
      const tried = creds.tried.length > 0 ? creds.tried.join(', ') : 'no key at all';
      const notes = [...creds.skipped, ...(agentProblem ? [`ssh-agent failed: ${agentProblem}`] : [])];
      return new AgentctlError(
        'engine-unreachable',
        `${t.label}: ssh authentication as ${t.user}@${t.host} failed: the server accepted none of the keys offered (tried ${tried}${notes.length > 0 ? `; not usable: ${notes.join('; ')}` : ''}). Add the public key to ${t.user}'s ~/.ssh/authorized_keys on ${t.host}, load the key into ssh-agent, or name it with identityFile`,
        { cause: err },
      );
    }
    if (err.level === 'client-timeout') {
      return new AgentctlError(
        'engine-unreachable',
        `${t.label}: no ssh handshake with ${t.host}:${t.port} within ${HANDSHAKE_TIMEOUT_MS / 1000} s (is it an ssh server, and reachable?)`,
        { cause: err },
      );
    }
    if (err.level === 'client-socket') {
      const why =
        err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
          ? `the host name ${t.host} does not resolve`
          : err.code === 'ECONNREFUSED'
            ? `nothing listens on ${t.host}:${t.port} (connection refused)`
            : err.message;
      return new AgentctlError('engine-unreachable', `${t.label}: cannot reach the ssh server: ${why}`, {
        cause: err,
      });
    }
    return new AgentctlError('engine-unreachable', `${t.label}: ssh: ${err.message}`, { cause: err });
  }
}

function hostKeyMessage(
  t: SshTarget,
  v: { reason: 'unknown' | 'changed' | 'revoked'; fingerprint: string; keyType: string },
  files: string[],
): string {
  const name = knownHostsName(t.host, t.port);
  const sshCmd = `ssh${t.port === 22 ? '' : ` -p ${t.port}`} ${t.user}@${t.host} true`;
  const offered = `${v.keyType} key ${v.fingerprint}`;
  if (v.reason === 'unknown') {
    return `${t.label}: the ssh host ${name} is not in known_hosts (${files.join(', ')}), and agentctl never trusts a host key on first use. The server offered the ${offered}; check it, then add it by connecting once with: ${sshCmd}`;
  }
  if (v.reason === 'revoked') {
    return `${t.label}: the ssh host ${name} offered the ${offered}, which known_hosts marks @revoked: refused`;
  }
  return `${t.label}: the ssh host ${name} offered the ${offered}, which is NOT a key known_hosts holds for it: refused (it may be a man-in-the-middle). If the host was reinstalled, remove its old key with: ssh-keygen -R '${name}', then connect once with: ${sshCmd}`;
}

/**
 * A dial-stdio channel as the socket an http.Agent expects: a Duplex with the net.Socket methods the
 * HTTP client calls (ref/unref on pooling, keep-alive, no-delay, timeouts). Its end reaches the remote
 * docker CLI as EOF (half-close: an exec's stdin). When the remote command fails (no docker CLI, no
 * engine), the socket fails with that reason instead of a bare "socket hang up".
 */
class ChannelSocket extends Duplex {
  private stderr = '';
  private exitCode: number | null | undefined;
  private sawData = false;
  private idleTimer?: NodeJS.Timeout;
  private idleMs = 0;

  constructor(
    private readonly channel: ClientChannel,
    private readonly link: SshLink,
    private readonly target: SshTarget,
  ) {
    super({ allowHalfOpen: true });
    channel.on('data', (chunk: Buffer) => {
      this.sawData = true;
      this.touch();
      if (!this.push(chunk)) channel.pause();
    });
    channel.stderr.on('data', (chunk: Buffer) => {
      if (this.stderr.length < 4096) this.stderr += chunk.toString('utf8');
    });
    channel.on('exit', (code: number | null) => {
      this.exitCode = code;
    });
    // The remote end is over once the channel closes: EOF then, or the remote command's failure.
    channel.on('close', () => this.remoteClosed());
  }

  override _read(): void {
    this.channel.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.touch();
    this.channel.write(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.channel.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    clearTimeout(this.idleTimer);
    this.channel.close();
    this.link.forget(this);
    cb(err);
  }

  setNoDelay(): this {
    return this; // the ssh connection's TCP socket has no-delay already
  }

  setKeepAlive(): this {
    return this; // the ssh connection's TCP socket has keep-alive already
  }

  setTimeout(ms: number, cb?: () => void): this {
    this.idleMs = ms;
    if (cb) this.once('timeout', cb);
    this.touch();
    return this;
  }

  ref(): this {
    this.link.setReferenced(this, true);
    return this;
  }

  unref(): this {
    this.link.setReferenced(this, false);
    return this;
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    if (this.idleMs > 0) {
      this.idleTimer = setTimeout(() => this.emit('timeout'), this.idleMs);
      this.idleTimer.unref();
    }
  }

  private remoteClosed(): void {
    if (this.destroyed) return;
    const code = this.exitCode;
    if (code !== undefined && code !== null && code !== 0) return void this.destroy(this.dialFailure(code));
    this.push(null);
    // Nothing more can be written either: the remote command is gone.
    this.destroy();
  }

  private dialFailure(code: number): AgentctlError {
    const t = this.target;
    const said = this.stderr.trim().replace(/\s+/g, ' ');
    if (code === 127 || (/command not found|not found|no such file/i.test(said) && !this.sawData)) {
      return new AgentctlError(
        'engine-unreachable',
        `${t.label}: the remote host has no docker CLI to run \`${DIAL_COMMAND}\` (${said || `exit ${code}`}); install it there (Debian: apt-get install docker.io, or docker-ce-cli) on the PATH of ${t.user}'s ssh sessions`,
      );
    }
    return new AgentctlError(
      'engine-unreachable',
      `${t.label}: \`${DIAL_COMMAND}\` failed on the remote host (exit ${code}${said ? `: ${said}` : ''}); check that \`ssh ${t.user}@${t.host} docker version\` works`,
    );
  }
}
