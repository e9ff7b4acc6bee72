/**
 * The shape of agents.yaml as schemas/agents.schema.json describes it. The data only has this type
 * where the schema found no error (see Diagnostics.clean): keep the two in step.
 */
import type { DesiredRunState, RestartPolicy } from '../types.js';

/** Written as a string, number or boolean; always used as a string. */
export type RawScalar = string | number | boolean;

/** A secret by reference: exactly one of the two (the schema says so). */
export interface RawSecretRef {
  fromEnv?: string;
  fromFile?: string;
}

export type RawEnvValue = RawScalar | RawSecretRef;

export type RawUlimit = number | { soft: number; hard: number };

export interface RawAgent {
  image?: string;
  command?: string[];
  env?: Record<string, RawEnvValue>;
  memory?: string | number;
  cpus?: number;
  pids?: number;
  ulimits?: Record<string, RawUlimit>;
  tmpfs?: Record<string, string | number>;
  readOnly?: boolean;
  network?: string;
  capabilities?: { add?: string[]; drop?: string[] };
  noNewPrivileges?: boolean;
  user?: string | number;
  init?: boolean;
  logs?: { driver: string; options?: Record<string, RawScalar> };
  restart?: RestartPolicy;
  state?: DesiredRunState;
  labels?: Record<string, RawScalar>;
  replicas?: number;
  runtime?: string;
  engine?: string;
  build?: RawBuild;
  egress?: RawEgress;
  healthcheck?: 'none' | 'image' | RawHealthcheck;
}

/** Durations are written like `30s`, `2m`, `1m30s`, `500ms`; a number is seconds. */
export interface RawHealthcheck {
  command?: string[] | string;
  interval?: string | number;
  timeout?: string | number;
  retries?: number;
  startPeriod?: string | number;
}

export type RawEgress = 'all' | 'none' | { allow: string[]; deny?: string[] };

export interface RawEngine {
  host?: string;
  tls?: { ca: string; cert: string; key: string };
  identityFile?: string;
  runtimeDir?: string;
}

export interface RawBuild {
  context: string;
  dockerfile?: string;
  args?: Record<string, RawScalar>;
}

export interface RawConfig {
  version?: number;
  project?: string;
  runtimeDir?: string;
  namePrefix?: string;
  engines?: Record<string, RawEngine | null> | null;
  /** null: the key is present with no value (`defaults:`), which means no defaults. */
  defaults?: RawAgent | null;
  agents?: Record<string, RawAgent | null> | null;
}
