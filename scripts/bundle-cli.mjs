#!/usr/bin/env node
// Bundles the CLI (dist/agentctl.mjs plus its chunks in dist/cli-chunks/). Startup is most of a no-op
// `apply`: resolving and loading ~100 small ES and CommonJS modules (ours, yaml's, commander's) one by one
// costs about 0.1 s on a small machine; a few pre-linked files cost a fraction of that. The entry point
// (src/cli/bin.ts) loads either the full program or, for `exec` and `shell` (an agent's hot path), only
// their own chunks: code splitting keeps YAML, the schema and the planner out of that path. The library
// (dist/index.js) stays unbundled.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

/**
 * The build's id (src/cli/build-id.ts): a digest of everything the bundle is made from (the sources,
 * the locked dependencies, this script), so that two builds that could parse a file differently never
 * share a parse-cache entry.
 */
function buildId() {
  const files = ['package-lock.json', 'scripts/bundle-cli.mjs'];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk('src');
  const hash = createHash('sha256');
  for (const f of files.sort()) hash.update(`${f}\0`).update(readFileSync(f)).update('\0');
  return hash.digest('hex').slice(0, 32);
}

// Chunk names carry content hashes: clear out the previous build's.
rmSync('dist/cli-chunks', { recursive: true, force: true });

await build({
  entryPoints: { agentctl: 'src/cli/bin.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'cli-chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  // Bundled CommonJS dependencies call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __agentctlRequire } from 'node:module'; const require = __agentctlRequire(import.meta.url);",
  },
  // Heavy and only needed by streaming commands (dockerode) or ssh engines (ssh2, which also has optional
  // native parts a bundle cannot hold): loaded on demand from node_modules.
  external: ['dockerode', 'ssh2'],
  define: { __AGENTCTL_BUILD_ID__: JSON.stringify(buildId()) },
});

// The remote HostFs helper's program: one self-contained file, run by the host's node binary in a helper
// image on a remote engine (src/docker/remote-host-fs.ts).
await build({
  entryPoints: ['src/docker/host-fs-helper/main.ts'],
  outfile: 'dist/host-fs-helper.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});

// The egress gateway's program: one self-contained file (Node built-ins only), copied into the gateway
// image next to the host's node binary (src/egress/gateway-image.ts).
await build({
  entryPoints: ['src/egress/gateway/proxy.ts'],
  outfile: 'dist/egress-gateway.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
