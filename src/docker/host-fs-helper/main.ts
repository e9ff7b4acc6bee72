/**
 * The program of the remote HostFs's helper container (src/docker/remote-host-fs.ts), bundled to
 * dist/host-fs-helper.mjs and run by this machine's node binary in an image FROM scratch on the remote
 * engine, with that engine's runtimeDir bind-mounted at the same path. It runs the LOCAL HostFs code
 * there, so a remote engine's working directories get exactly the semantics (no symlink followed,
 * lchown, EPERM codes, 'unsafe' refusals) this machine's get.
 *
 *   node host-fs-helper.mjs call JSON   one HostFs method: {method, args} -> one JSON line on stdout,
 *                                        {value} or {error: {message, code?, kind?}}
 *   node host-fs-helper.mjs idle SECS   the container's main process: exits once no call came for SECS
 *                                        (calls touch /tmp/last-call), so a killed agentctl leaves nothing
 */
import { statSync, writeFileSync } from 'node:fs';
import { AgentctlError } from '../../errors.js';
import { localHostFs } from '../local-host-fs.js';

const STAMP = '/tmp/last-call';
const METHODS = new Set([
  'lstat',
  'assertNoSymlinks',
  'ensureWorkDir',
  'isEmptyDir',
  'chown',
  'chmod',
  'reownTree',
  'removeTree',
  'readdir',
  'realpath',
  'spaceAt',
  'diskUsage',
]);

async function call(json: string): Promise<void> {
  writeFileSync(STAMP, '');
  let out: unknown;
  try {
    const { method, args } = JSON.parse(json) as { method: string; args: unknown[] };
    if (!METHODS.has(method)) throw new Error(`unknown HostFs method ${method}`);
    const fn = (localHostFs as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
    out = { value: (await fn!.apply(localHostFs, args)) ?? null };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    out = {
      error: {
        message: e.message,
        ...(e.code ? { code: e.code } : {}),
        ...(err instanceof AgentctlError ? { kind: err.kind } : {}),
      },
    };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function idle(seconds: number): void {
  writeFileSync(STAMP, '');
  const timer = setInterval(() => {
    let last = 0;
    try {
      last = statSync(STAMP).mtimeMs;
    } catch {
      // No stamp: nothing came since start.
    }
    if (Date.now() - last > seconds * 1000) {
      clearInterval(timer);
      process.exit(0);
    }
  }, 1000);
  process.on('SIGTERM', () => process.exit(0));
}

const [mode, arg] = process.argv.slice(2);
if (mode === 'call' && arg) await call(arg);
else if (mode === 'idle') idle(Number(arg) || 60);
else {
  process.stderr.write('usage: host-fs-helper call JSON | idle SECONDS\n');
  process.exit(2);
}
