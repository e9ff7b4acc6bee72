/** Telling from the classic builder's output that a build stopped while fetching its base image. */
import { describe, expect, it } from 'vitest';
import { BuildStepTracker } from '../../src/docker/build-steps.js';

describe('BuildStepTracker', () => {
  const cases: { name: string; args?: Record<string, string>; lines: string[]; base: string | undefined }[] =
    [
      {
        name: 'plain FROM, failed',
        lines: ['Step 1/2 : FROM debian:trixie-slim'],
        base: 'debian:trixie-slim',
      },
      {
        name: 'ARG default expanded',
        lines: ['Step 1/3 : ARG BASE_IMAGE=debian:trixie-slim', 'Step 2/3 : FROM ${BASE_IMAGE}'],
        base: 'debian:trixie-slim',
      },
      {
        name: '--build-arg wins over the default',
        args: { BASE_IMAGE: 'mine:1' },
        lines: ['Step 1/3 : ARG BASE_IMAGE="debian:trixie-slim"', 'Step 2/3 : FROM $BASE_IMAGE AS base'],
        base: 'mine:1',
      },
      { name: 'platform flag skipped', lines: ['Step 1/2 : FROM --platform=linux/amd64 x:1'], base: 'x:1' },
      {
        name: 'FROM done, a later step failed',
        lines: ['Step 1/2 : FROM x:1', ' ---> 1a2b3c', 'Step 2/2 : RUN false'],
        base: undefined,
      },
      { name: 'no FROM yet', lines: ['Step 1/2 : ARG A=1'], base: undefined },
    ];
  it.each(cases)('$name', ({ args = {}, lines, base }) => {
    const t = new BuildStepTracker(args);
    for (const l of lines) t.line(l);
    expect(t.failedBase()).toBe(base);
  });
});
