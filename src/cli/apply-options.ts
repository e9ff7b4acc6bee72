/** The flags one-shot `apply` and `apply --watch` share, as reconcile options. */
import type { ApplyOptions } from '../ops/reconcile.js';
import { freeSpaceMinimum } from '../reconcile/free-space.js';

export interface SharedApplyFlags {
  prune: boolean;
  parallel: number;
  timeout: number;
  allowEmpty?: boolean;
  allowMassPrune?: boolean;
  allowForeignPrune?: boolean;
  allowForeignChange?: boolean;
  wait: number;
  minFree?: string;
  minFreeInodes?: string;
}

export function sharedApplyOptions(flags: SharedApplyFlags): ApplyOptions {
  return {
    prune: flags.prune,
    parallel: flags.parallel,
    stopTimeoutSeconds: flags.timeout,
    allowEmpty: flags.allowEmpty,
    allowMassPrune: flags.allowMassPrune,
    allowForeignPrune: flags.allowForeignPrune,
    allowForeignChange: flags.allowForeignChange,
    lockWaitMs: flags.wait * 1000,
    // Read once, at the start: a bad value is a usage error before anything is observed.
    minFree: freeSpaceMinimum(process.env, { minFree: flags.minFree, minFreeInodes: flags.minFreeInodes }),
    onLockWait: (holder) => process.stderr.write(`waiting for the project lock held by ${holder}\n`),
  };
}
