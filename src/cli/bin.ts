#!/usr/bin/env node
/**
 * The CLI's entry point (dist/agentctl.mjs; scripts/bundle-cli.mjs splits the rest into chunks loaded on
 * demand). `exec` and `shell`, an agent's hot path, load only what they need (exec-main.ts); every other
 * command loads the full program (main.ts).
 */
const command = process.argv[2];
if (command === 'exec' || command === 'shell') await import('./exec-main.js');
else await import('./main.js');
