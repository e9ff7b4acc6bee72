import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { AgentctlError } from '../../src/errors.js';
import { specHash } from '../../src/spec-hash.js';

const FILE = '/srv/demo/agents.yaml';
const parse = (text: string) =>
  parseConfig(text, { file: FILE, baseDir: '/srv/demo', defaultProject: 'demo' });

function problems(text: string): string[] {
  try {
    parse(text);
  } catch (err) {
    const e = err as AgentctlError;
    return [e.message, ...e.details];
  }
  throw new Error('expected a config error');
}

describe('build:', () => {
  it('declares how an image is built, with paths relative to the file, shared by the agents using it', () => {
    const state = parse(
      [
        'version: 1',
        'defaults:',
        '  build: { context: ../agent-image, args: { VERSION: 2 } }',
        'agents:',
        '  a: {}',
        '  w: { replicas: 2 }',
        '  other: { image: "tools:1", build: { context: ./tools, dockerfile: docker/Dockerfile } }',
      ].join('\n'),
    );
    expect(state.builds).toEqual([
      {
        image: 'claude-agent:latest',
        context: '/srv/agent-image',
        dockerfile: 'Dockerfile',
        args: { VERSION: '2' },
        agents: ['a', 'w-1', 'w-2'],
      },
      {
        image: 'tools:1',
        context: '/srv/demo/tools',
        dockerfile: 'docker/Dockerfile',
        args: {},
        agents: ['other'],
      },
    ]);
  });

  it('is not part of the container spec: changing how an image is built does not recreate by itself', () => {
    const one = parse('version: 1\nagents:\n  a: { build: { context: ./one } }');
    const two = parse('version: 1\nagents:\n  a: { build: { context: ./two } }');
    expect(one.agents[0]).not.toHaveProperty('build');
    expect(specHash(one.agents[0]!)).toBe(specHash(two.agents[0]!));
  });

  it.each([
    [
      'a Dockerfile outside the context',
      'a: { build: { context: ., dockerfile: ../Dockerfile } }',
      /:3:\d+: .*dockerfile: must be a path inside the build context/,
    ],
    [
      'an absolute Dockerfile path',
      'a: { build: { context: ., dockerfile: /etc/Dockerfile } }',
      /dockerfile: must be a path inside/,
    ],
    ['a missing context', 'a: { build: { dockerfile: Dockerfile } }', /:3:\d+: .*context/],
    ['an unknown build field', 'a: { build: { context: ., target: x } }', /unknown field "target"/],
  ])('rejects %s', (_name, agentLine, pattern) => {
    expect(problems(`version: 1\nagents:\n  ${agentLine}\n`).join('\n')).toMatch(pattern);
  });

  it('rejects two different builds for one image tag', () => {
    const text =
      'version: 1\nagents:\n  a: { build: { context: ./one } }\n  b: { build: { context: ./two } }\n';
    expect(problems(text).join('\n')).toMatch(
      /:4:\d+: .*"claude-agent:latest" is already built differently for agent a/,
    );
  });
});
