/**
 * agentctl's library API. The CLI is a thin layer over these functions.
 */
export { loadConfig, parseConfig } from './config/load.js';
export { plan, type PlanOptions } from './reconcile/plan.js';
export { observe } from './reconcile/observe.js';
export { execute, type ExecuteOptions, type ProgressEvent } from './reconcile/execute.js';
export { diff, reconcile, type ApplyOptions, type DiffOptions, type DiffResult } from './ops/reconcile.js';
export { ps, type AgentRow } from './ops/ps.js';
export { down, type DownOptions, type DownResult } from './ops/down.js';
export { DockerEngine } from './docker/engine.js';
export type { DockerPort, CreateContainerBody } from './docker/port.js';
export { renderPlan, planToJson } from './render/plan-text.js';
export { specHash, canonicalJson } from './spec-hash.js';
export { LABEL } from './labels.js';
export { AgentctlError, EXIT, type ErrorKind } from './errors.js';
export type * from './types.js';
