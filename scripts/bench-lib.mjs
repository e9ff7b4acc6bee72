// What the benchmark scripts share: where things are, a bare Engine-API client (the "raw floor": nothing
// but node:http over the socket, as a hand-written client would do it), and small statistics helpers.
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The CLI as users run it (package.json bin). */
export const CLI = path.join(ROOT, 'dist', 'agentctl.mjs');
export const SOCKET = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '');

export function engineClient({ maxSockets = 16 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  /** The response body as bytes; non-2xx answers (but 304, "already done") reject. */
  function raw(method, p, body) {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          socketPath: SOCKET,
          agent,
          method,
          path: p,
          headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const data = Buffer.concat(chunks);
            if (res.statusCode >= 300 && res.statusCode !== 304) {
              reject(new Error(`${method} ${p}: ${res.statusCode} ${data}`));
            } else resolve(data);
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
  async function api(method, p, body) {
    const data = await raw(method, p, body);
    return data.length > 0 ? JSON.parse(data.toString()) : undefined;
  }
  return { agent, raw, api, close: () => agent.destroy() };
}

/** Run fn over items with at most `limit` in flight. */
export async function pool(items, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Writes dir/agents.yaml for a bench project: defaults on the test image, then the given agent lines.
 * `cpus: null` leaves the CPU limit out, for a benchmark whose timing a 0.1-CPU quota would skew.
 */
export function writeFleet(dir, project, image, agentLines, { cpus = 0.1 } = {}) {
  writeFileSync(
    path.join(dir, 'agents.yaml'),
    [
      'version: 1',
      `project: ${project}`,
      `namePrefix: ${project}-`,
      'runtimeDir: ./runtime',
      'defaults:',
      `  image: ${image}`,
      '  memory: 64m',
      ...(cpus === null ? [] : [`  cpus: ${cpus}`]),
      'agents:',
      ...agentLines.map((l) => `  ${l}`),
      '',
    ].join('\n'),
  );
}
