/**
 * agentctl's library API. The CLI is a thin layer over these functions.
 */
export { loadConfig, parseConfig } from './config/load.js';
export { FileManagedAgentError } from './errors.js';
export { plan, type PlanOptions } from './reconcile/plan.js';
export { observe } from './reconcile/observe.js';
export { execute, type ExecuteOptions, type ProgressEvent } from './reconcile/execute.js';
export {
  AgentExistsError,
  diff,
  reconcile,
  type ApplyOptions,
  type DiffOptions,
  type DiffResult,
  type ReconcileResult,
} from './ops/reconcile.js';
export type { PreflightProblem } from './reconcile/preflight.js';
export { ps, psAll, type AgentRow, type ManagedAgentRow } from './ops/ps.js';
export { runAgent, followUntilExit, type RunOptions, type RunResult } from './ops/run.js';
export { getLogs, type LogsOptions, type LogsResult } from './ops/logs.js';
export {
  startAgents,
  stopAgents,
  restartAgents,
  removeAgents,
  type LifecycleOptions,
  type LifecycleResult,
  type RemoveOptions,
  type RemoveResult,
} from './ops/lifecycle.js';
export { inspectAgent, type AgentRecord } from './ops/inspect.js';
export { getStats, StatsSampler, type StatsRow, type StatsOptions } from './ops/stats.js';
export { copy, type CopyOptions, type CopyResult } from './ops/cp.js';
export { cleanup, type CleanupOptions, type CleanupResult } from './ops/cleanup.js';
export { down, type DownOptions, type DownResult } from './ops/down.js';
export { AgentManager, type AgentManagerOptions } from './ops/agent-manager.js';
export type { CreateAgentOptions } from './ops/create-agent.js';
export {
  Session,
  type SessionOptions,
  type SessionRunOptions,
  type SessionResult,
  type JobInfo,
} from './session/session.js';
export type { JobOutput, JobOutputOptions } from './session/jobs.js';
export {
  claudeTools,
  type ClaudeTools,
  type ClaudeToolsOptions,
  type ClaudeToolDefinition,
  type ToolUseBlock,
  type ToolResultBlock,
} from './tools/claude.js';
export type { ExecResult, ExecuteCommandOptions } from './ops/execute-command.js';
export { resolveAgent, type ResolvedAgent, type ResolveOptions } from './ops/resolve-agent.js';
export { watch, type WatchHandle, type WatchOptions } from './watch/controller.js';
export type { WatchAction, WatchEvent, WatchHeld } from './watch/events.js';
export type { BackoffPolicy } from './watch/backoff.js';
export { buildImages, type BuildOptions, type BuildResult } from './ops/build.js';
export { imagesToBuild, type BuildPolicy } from './reconcile/builds.js';
export { DockerEngine } from './docker/engine.js';
export type { DockerPort, CreateContainerBody } from './docker/port.js';
export { renderPlan, planToJson } from './render/plan-text.js';
export { specHash, canonicalJson } from './spec-hash.js';
export { LABEL } from './labels.js';
export { AgentctlError, EXIT, type ErrorKind } from './errors.js';
export type * from './types.js';
