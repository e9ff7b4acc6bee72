/**
 * A unix socket in front of an engine's socket that passes every byte through and counts the requests
 * of one endpoint (`GET /info`, with or without an API version prefix), for tests that assert how often
 * a command asks the engine something. It sees what really goes over the wire, whatever layer asked.
 */
import net from 'node:net';
import { rmSync } from 'node:fs';

export interface CountingSocket {
  /** `unix://<path>`, to use as the engine's address. */
  host: string;
  /** Requests seen since the last reset. */
  count(): number;
  reset(): void;
  close(): Promise<void>;
}

export async function countingSocket(
  socketPath: string,
  target: string,
  request: RegExp = /GET \/(v[\d.]+\/)?info[ ?]/g,
): Promise<CountingSocket> {
  let n = 0;
  const clients = new Set<net.Socket>();
  const server = net.createServer((client) => {
    clients.add(client);
    const up = net.connect(target);
    // Complete lines only: a request line split across two chunks is counted once, when it ends.
    let tail = '';
    client.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      const last = text.lastIndexOf('\n');
      n += [...text.slice(0, last + 1).matchAll(request)].length;
      tail = text.slice(last + 1).slice(-256);
    });
    client.pipe(up);
    up.pipe(client);
    const end = () => {
      client.destroy();
      up.destroy();
      clients.delete(client);
    };
    client.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));
  return {
    host: `unix://${socketPath}`,
    count: () => n,
    reset: () => {
      n = 0;
    },
    close: async () => {
      for (const c of clients) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(socketPath, { force: true });
    },
  };
}
