/**
 * Schema validation with the validator precompiled from schemas/agents.schema.json (see
 * scripts/compile-schema.mjs), and the translation of ajv's errors into messages a user can act on,
 * each anchored at the YAML node it is about.
 */
import type { ErrorObject } from 'ajv';
import { addCapabilityProblem, dropCapabilityProblem } from './capabilities.js';
import compiledValidator, { schema as publishedSchema } from './compiled-validator.js';
import { describeValue } from './describe.js';
import type { Anchor, Diagnostics } from './diagnostics.js';
import { pointerToPath, valueAt } from './field-path.js';
import type { FieldPath } from './field-path.js';
import {
  imageReferenceMessage,
  invalidIdMessage,
  networkMessage,
  reservedEnvMessage,
  reservedLabelMessage,
  tmpfsPathProblem,
} from './rules.js';
import { closest } from '../util/did-you-mean.js';
import { MEMORY_RANGE, sizeProblem, TMPFS_RANGE } from './units.js';
import { type DurationField, durationProblem } from './healthcheck.js';

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
const validator = compiledValidator as unknown as Validator;

/** Left out on purpose: asking for them gets the reason, not just "unknown field". */
const REFUSED_FIELDS = new Map([
  ['privileged', 'agentctl never runs privileged containers'],
  ['devices', 'agents get no host devices'],
  ['volumes', "an agent's only mount is its working directory at /mnt"],
  ['mounts', "an agent's only mount is its working directory at /mnt"],
  ['binds', "an agent's only mount is its working directory at /mnt"],
  ['<<', 'YAML merge keys are not supported; put shared settings under defaults'],
]);

interface Issue {
  path: FieldPath;
  anchor: Anchor;
  message: string;
}

/** Reports every schema error and marks its data invalid for the semantic checks that follow. */
export function checkSchema(data: unknown, d: Diagnostics): void {
  if (validator(data)) return;
  for (const error of validator.errors ?? []) {
    const issue = toIssue(error, data);
    if (!issue) continue;
    d.markInvalid(issue.path);
    d.problem(issue.path, issue.message, issue.anchor);
  }
}

function toIssue(error: ErrorObject, data: unknown): Issue | undefined {
  const at = pointerToPath(error.instancePath, data);
  // ajv follows each failed property name check with a summary error that adds nothing.
  if (error.keyword === 'propertyNames') return undefined;
  if (error.propertyName !== undefined) {
    return {
      path: [...at, error.propertyName],
      anchor: 'key',
      message: keyMessage(at, error.propertyName, error),
    };
  }
  if (error.keyword === 'additionalProperties') {
    const name = String(error.params.additionalProperty);
    const reason = isEnvValue(at) ? SECRET_REF_SHAPE : REFUSED_FIELDS.get(name);
    const suggestion = reason ? undefined : closest(name, knownFields(at));
    const why = reason ? ` (${reason})` : suggestion ? `; did you mean "${suggestion}"?` : '';
    return { path: [...at, name], anchor: 'key', message: `unknown field "${name}"${why}` };
  }
  if (error.keyword === 'required') {
    // Anchored at the missing key, which does not exist: the locator falls back to the parent map.
    const name = String(error.params.missingProperty);
    const hint = at.length === 0 ? (TOP_LEVEL_HINTS[name] ?? '') : '';
    return { path: [...at, name], anchor: 'key', message: `missing required field "${name}"${hint}` };
  }
  return { path: at, anchor: 'value', message: valueMessage(at, valueAt(data, at), error) };
}

const TOP_LEVEL_HINTS: Record<string, string> = {
  version: ' (add "version: 1")',
  agents: ' (add "agents:" with one entry per agent, or "agents: {}" for none)',
};

type SchemaNode = {
  $ref?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
};

/**
 * The field names the published schema allows in the map at `path` (the validator's schemaPath is
 * relative to the `$ref` it ran in, so the schema is walked along the data's path instead).
 */
function knownFields(path: FieldPath): string[] {
  const root = publishedSchema as SchemaNode;
  const deref = (node: SchemaNode | undefined): SchemaNode | undefined => {
    const name = node?.$ref?.replace(/^#\/definitions\//, '');
    return name ? (root as { definitions?: Record<string, SchemaNode> }).definitions?.[name] : node;
  };
  let node = deref(root);
  for (const segment of path) {
    const map = node?.properties?.[String(segment)];
    const rest = typeof node?.additionalProperties === 'object' ? node.additionalProperties : undefined;
    node = deref(map ?? rest ?? node?.items);
  }
  return Object.keys(node?.properties ?? {});
}

const SECRET_REF_SHAPE = 'a secret reference is { fromEnv: NAME } or { fromFile: PATH }';

/** The value of one variable in an agent's env. */
function isEnvValue(path: FieldPath): boolean {
  const field = agentField(path);
  return field?.length === 2 && field[0] === 'env';
}

/** The path of a field inside an agent's settings (under `defaults` or `agents.<id>`). */
function agentField(path: FieldPath): FieldPath | undefined {
  if (path[0] === 'defaults') return path.slice(1);
  if (path[0] === 'agents' && path.length >= 2) return path.slice(2);
  return undefined;
}

/** A map key that failed its `propertyNames` schema; `parent` is the map. */
function keyMessage(parent: FieldPath, key: string, error: ErrorObject): string {
  if (parent.length === 1 && parent[0] === 'agents') {
    return REFUSED_FIELDS.get(key) ?? invalidIdMessage('agent id', key);
  }
  const field = agentField(parent);
  if (field?.length === 1) {
    switch (field[0]) {
      case 'env':
        return error.keyword === 'not'
          ? reservedEnvMessage(key)
          : `invalid variable name ${JSON.stringify(key)}: use letters, digits and _, not starting with a digit`;
      case 'labels':
        return error.keyword === 'not' ? reservedLabelMessage(key) : 'label keys must not be empty';
      case 'ulimits':
        return `unknown ulimit ${JSON.stringify(key)}: expected one of ${listOf(error.params.allowedValues)}`;
      case 'tmpfs':
        return tmpfsPathProblem(key) ?? genericMessage(error, key);
    }
  }
  return `invalid key ${JSON.stringify(key)}: ${genericMessage(error, key)}`;
}

function valueMessage(path: FieldPath, value: unknown, error: ErrorObject): string {
  return specificMessage(path, value) ?? genericMessage(error, value);
}

/** Fields whose rules are spelled out better by the semantic checks than by the schema's keywords. */
function specificMessage(path: FieldPath, value: unknown): string | undefined {
  const field = agentField(path);
  const [name, list] = field ?? [];
  if (field?.length === 1 && name === 'memory') return sizeProblem(value, MEMORY_RANGE);
  if (field?.length === 2 && name === 'tmpfs') return sizeProblem(value, TMPFS_RANGE);
  if (field?.length === 2 && name === 'healthcheck' && isDurationField(list))
    return durationProblem(list, value);
  if (field?.length === 1 && name === 'healthcheck') return healthcheckMessage(value);
  if (isEnvValue(path)) {
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? `${SECRET_REF_SHAPE}, exactly one of them`
      : `expected a string, a number, a boolean or a secret reference ({ fromEnv: NAME } or { fromFile: PATH }), got ${describeValue(value)}`;
  }
  // The remaining fields are strings that failed a pattern.
  if (typeof value !== 'string') return undefined;
  if (field?.length === 1 && name === 'network') return networkMessage(value);
  if (field?.length === 1 && name === 'image') return imageReferenceMessage(value);
  if (field?.length === 3 && name === 'capabilities') {
    return list === 'add' ? addCapabilityProblem(value) : dropCapabilityProblem(value);
  }
  if (path.length === 1 && path[0] === 'project') return invalidIdMessage('project name', value);
  if (path.length === 1 && path[0] === 'namePrefix') {
    return `invalid name prefix ${JSON.stringify(value)}: use letters, digits, '.', '_' and '-', starting with a letter or digit`;
  }
  return undefined;
}

function isDurationField(key: unknown): key is DurationField {
  return key === 'interval' || key === 'timeout' || key === 'startPeriod';
}

function healthcheckMessage(value: unknown): string {
  const guess = typeof value === 'string' ? closest(value, ['none', 'image']) : undefined;
  return `expected none, image or a map of command, interval, timeout, retries and startPeriod, got ${describeValue(value)}${guess ? `; did you mean "${guess}"?` : ''}`;
}

function genericMessage(error: ErrorObject, value: unknown): string {
  const { params } = error;
  switch (error.keyword) {
    case 'type':
      return `expected ${typeNames(params.type)}, got ${describeValue(value)}`;
    case 'enum':
      return `expected one of ${listOf(params.allowedValues)}, got ${describeValue(value)}`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}, got ${describeValue(value)}`;
    case 'minimum':
      return `must be at least ${params.limit}, got ${describeValue(value)}`;
    case 'maximum':
      return `must be at most ${params.limit}, got ${describeValue(value)}`;
    case 'minLength':
    case 'minItems':
      return 'must not be empty';
    case 'pattern':
      return `${describeValue(value)} is not valid: it must match ${params.pattern}`;
    default:
      return error.message ?? 'is not valid';
  }
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'a map',
  array: 'a list',
};

function typeNames(types: string | string[]): string {
  // `null` is accepted only where an empty value means "nothing to set"; it is not worth suggesting.
  const wanted = [types].flat().filter((t) => t !== 'null');
  if (wanted.length === 1 && wanted[0] === 'boolean') return 'true or false';
  const names = wanted.map((t) => TYPE_NAMES[t] ?? t);
  return names.length > 1
    ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`
    : (names[0] ?? 'something else');
}

function listOf(values: unknown): string {
  return Array.isArray(values) ? values.map(String).join(', ') : String(values);
}
