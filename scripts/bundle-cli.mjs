#!/usr/bin/env node
// Bundles the CLI into one file (dist/agentctl.mjs). Startup is most of a no-op `apply`: resolving and
// loading ~100 small ES and CommonJS modules (ours, yaml's, commander's) one by one costs about 0.1 s on a
// small machine; one pre-linked file costs a fraction of that. The library (dist/index.js) stays unbundled.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/agentctl.mjs',
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
  // Heavy and only needed by streaming commands: loaded on demand from node_modules.
  external: ['dockerode'],
});
