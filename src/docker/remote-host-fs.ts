/**
 * The HostFs of an engine on another machine (see host-fs.ts for the contract): every operation runs
 * in a helper container ON THAT ENGINE, with the engine's runtimeDir bind-mounted at the same path, as
 * one exec of the helper program (host-fs-helper/main.ts), which runs the local HostFs code there. So
 * only src/docker talks to the engine (through its DockerPort, whatever the transport), no shell is run
 * over ssh, and the rules are the same code on both sides.
 *
 * The helper container is made on first use per process: root with only the capabilities file
 * ownership needs (CHOWN, FOWNER, DAC_OVERRIDE), no network, read-only root, no new privileges. Its main
 * process exits after a minute without calls, and the engine then removes it (AutoRemove), so a killed
 * agentctl leaves nothing behind. It sees only runtimeDir: other paths are refused (realpath returns them
 * unresolved, as it does for a path it cannot resolve).
 */
import path from 'node:path';
import { AgentctlError, type ErrorKind } from '../errors.js';
import { LABEL } from '../labels.js';
import type { DiskUsage } from '../util/disk-usage.js';
import { ensureHelperImage, HELPER_NODE, HELPER_SCRIPT } from './host-fs-helper-image.js';
import type { HostFs, HostSpace, HostStat } from './host-fs.js';
import type { CreateContainerBody, DockerPort } from './port.js';

const IDLE_SECONDS = 60;

export class RemoteHostFs implements HostFs {
  readonly where: string;
  /** The helper runs as root with CAP_CHOWN on that host. */
  readonly privileged = true;
  private helper?: Promise<string>;

  constructor(
    private readonly port: DockerPort,
    private readonly engine: string,
    private readonly runtimeDir: string,
  ) {
    this.where = `the host of engine ${engine}`;
  }

  lstat(p: string): Promise<HostStat | undefined> {
    return this.call('lstat', p);
  }

  assertNoSymlinks(root: string, target: string): Promise<void> {
    return this.call('assertNoSymlinks', root, target);
  }

  ensureWorkDir(runtimeDir: string, workDir: string): Promise<void> {
    return this.call('ensureWorkDir', runtimeDir, workDir);
  }

  isEmptyDir(dir: string): Promise<boolean> {
    return this.call('isEmptyDir', dir);
  }

  chown(p: string, uid: number, gid: number): Promise<void> {
    return this.call('chown', p, uid, gid);
  }

  chmod(p: string, mode: number): Promise<void> {
    return this.call('chmod', p, mode);
  }

  reownTree(dir: string, uid: number, gid: number): Promise<void> {
    return this.call('reownTree', dir, uid, gid);
  }

  removeTree(dir: string): Promise<void> {
    return this.call('removeTree', dir);
  }

  readdir(dir: string): Promise<string[] | undefined> {
    return this.call('readdir', dir);
  }

  async realpath(p: string): Promise<string> {
    if (!this.inside(p)) return path.resolve(p);
    return this.call('realpath', p);
  }

  spaceAt(p: string): Promise<HostSpace> {
    return this.call('spaceAt', p);
  }

  diskUsage(dir: string, opts?: { maxEntries?: number }): Promise<DiskUsage | undefined> {
    return this.call('diskUsage', dir, opts ?? {});
  }

  private inside(p: string): boolean {
    const rel = path.relative(this.runtimeDir, path.resolve(p));
    return !rel.startsWith('..') && !path.isAbsolute(rel);
  }

  private async call<T>(method: string, ...args: unknown[]): Promise<T> {
    for (const a of args) {
      if (typeof a === 'string' && a.startsWith('/') && !this.inside(a)) {
        throw new Error(
          `${method} ${a} on ${this.where}: outside its runtimeDir ${this.runtimeDir}, the only part of that host agentctl reaches`,
        );
      }
    }
    const id = await this.container();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const r = await this.port.exec(
      id,
      { cmd: [HELPER_NODE, HELPER_SCRIPT, 'call', JSON.stringify({ method, args })] },
      { onOutput: (s, c) => void (s === 'stdout' ? out : err).push(c) },
    );
    const text = Buffer.concat(out).toString('utf8').trim();
    let reply: { value?: T; error?: { message: string; code?: string; kind?: ErrorKind } };
    try {
      reply = JSON.parse(text.split('\n').pop() ?? '') as typeof reply;
    } catch {
      // The helper container may have gone away (idle exit): the next call starts another.
      this.helper = undefined;
      throw new Error(
        `${method} on ${this.where}: the helper gave no answer (${'exitCode' in r ? `exit ${r.exitCode}` : r.status}): ${Buffer.concat(err).toString('utf8').trim() || text}`,
      );
    }
    if (reply.error) {
      const e = reply.error;
      if (e.kind) throw new AgentctlError(e.kind, e.message);
      const error = new Error(`${e.message} (on ${this.where})`) as NodeJS.ErrnoException;
      if (e.code) error.code = e.code;
      throw error;
    }
    return (reply.value ?? undefined) as T;
  }

  /** The helper container, running; made (and its image built) on first use. */
  private container(): Promise<string> {
    this.helper ??= this.startHelper().catch((err: unknown) => {
      this.helper = undefined;
      throw err;
    });
    return this.helper.then(async (id) => {
      // It exits by itself after IDLE_SECONDS without calls: make a new one then.
      const d = await this.port.inspectContainer(id);
      if (d?.state === 'running') return id;
      this.helper = undefined;
      return this.container();
    });
  }

  private async startHelper(): Promise<string> {
    const image = await ensureHelperImage(this.port, this.engine);
    const name = `agentctl-host-fs-${this.engine}-${process.pid}-${Date.now().toString(36)}`;
    const body = {
      Image: image,
      Entrypoint: [HELPER_NODE],
      Cmd: [HELPER_SCRIPT, 'idle', String(IDLE_SECONDS)],
      Env: [],
      User: '0:0',
      WorkingDir: '/',
      Labels: { [LABEL.hostFsHelper]: this.engine },
      HostConfig: {
        // Binds (not Mounts) create a missing runtimeDir on that host, as ensureWorkDir would.
        Binds: [`${this.runtimeDir}:${this.runtimeDir}`],
        AutoRemove: true,
        NetworkMode: 'none',
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': 'rw,noexec,nosuid,size=1m' },
        CapDrop: ['ALL'],
        CapAdd: ['CHOWN', 'FOWNER', 'DAC_OVERRIDE'],
        SecurityOpt: ['no-new-privileges'],
        PidsLimit: 64,
        Memory: 256 * 1024 * 1024,
      },
    } as unknown as CreateContainerBody;
    const id = await this.port.createContainer(name, body);
    await this.port.startContainer(id);
    return id;
  }
}
