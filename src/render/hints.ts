/**
 * The command line's own words for what a library error says may be set to go ahead (AgentctlError's
 * `optIn`). Library messages never name a flag; the top-level handler adds these.
 */
import type { OptIn } from '../errors.js';

const HINTS: Record<OptIn, string> = {
  force: 'pass --force to do it anyway',
  allowMassPrune: 'pass --allow-mass-prune (to apply or apply --watch) if that is what you want',
  allowEmpty: 'pass --allow-empty (to apply or apply --watch) if that is what you want',
  allowForeignPrune: 'pass --allow-foreign-prune to remove them',
  allowForeignChange: 'pass --allow-foreign-change to let this file change them and become their owner',
  project: 'pass --project (or --file) to choose one',
  engineTimeout: 'the deadline is set with --engine-timeout or AGENTCTL_ENGINE_TIMEOUT',
  adopt: 'pass --adopt to take it over',
  migrate: 'apply --migrate does it',
  engine: "pass --engine with a copy's engine to act on that copy",
  migrateOrEngine: "apply --migrate does it; --engine with the copy's engine acts on the copy where it is",
};

export function cliHint(optIn: OptIn | undefined): string | undefined {
  return optIn === undefined ? undefined : HINTS[optIn];
}
