/**
 * The documented `-o json` shapes (schemas/output/NAME.json), compiled once, for tests that check real
 * output against them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { expect } from 'vitest';

const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strict: false });
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();

function compiledSchema(name: string): ReturnType<typeof ajv.compile> {
  let check = compiled.get(name);
  if (!check) {
    const file = path.resolve(`schemas/output/${name}.json`);
    check = ajv.compile(JSON.parse(readFileSync(file, 'utf8')) as object);
    compiled.set(name, check);
  }
  return check;
}

/** Why `data` does not match schemas/output/NAME.json, or undefined when it does. */
export function shapeProblem(name: string, data: unknown): string | undefined {
  const check = compiledSchema(name);
  return check(data)
    ? undefined
    : `${name}: ${ajv.errorsText(check.errors)}\n${JSON.stringify(data, null, 2)}`;
}

/** An assertion that `data` matches schemas/output/NAME.json. */
export function shape(name: string): (data: unknown) => void {
  return (data) => {
    const problem = shapeProblem(name, data);
    expect(problem === undefined, problem).toBe(true);
  };
}
