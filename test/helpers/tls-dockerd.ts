/**
 * A private dockerd reached over TLS: listening with --tlsverify on 127.0.0.1 at a free port, with the
 * certificates of testTls (test-tls.ts). It runs in the host's network namespace (so the port is
 * reachable) on a bridge of its own, never `--bridge none`. Started, with the test image loaded.
 */
import { rmSync } from 'node:fs';
import { testDockerd, type TestDockerd } from './test-dockerd.js';
import { freePort } from './test-sshd.js';
import { testTls, type TestTls } from './test-tls.js';

export interface TlsDockerd {
  d: TestDockerd;
  tls: TestTls;
  port: number;
  /** Stops and removes the dockerd, then its certificates. */
  cleanup(): Promise<void>;
}

/** `dnsNames`: more names its certificate is valid for (see testTls). */
export async function tlsDockerd(
  tag: string,
  bridge: { name: string; cidr: string },
  dnsNames: string[] = [],
): Promise<TlsDockerd> {
  const tls = testTls(tag, dnsNames);
  const port = await freePort();
  const d = testDockerd(tag, {
    bridge,
    extraArgs: [
      '--host',
      `tcp://127.0.0.1:${port}`,
      '--tlsverify',
      '--tlscacert',
      tls.ca,
      '--tlscert',
      tls.serverCert,
      '--tlskey',
      tls.serverKey,
    ],
  });
  const cleanup = async () => {
    await d.cleanup();
    rmSync(tls.dir, { recursive: true, force: true });
  };
  try {
    await d.start();
    await d.loadTestImage();
  } catch (err) {
    // The caller gets nothing to clean up: leave no dockerd, bridge or certificates behind.
    await cleanup();
    throw err;
  }
  return { d, tls, port, cleanup };
}
