/**
 * schemas/output/watch.json against every event type the watch controller can emit, through the CLI's
 * JSON mapping (the e2e test sees only the types a short real run produces; engine reconnects and
 * back-offs are also seen by the watch-engine-restart and watch-cli tests through the same helper).
 */
import { describe, expect, it } from 'vitest';
import { watchEventToJson } from '../../src/render/json-results.js';
import type { WatchEvent, WatchEventBody } from '../../src/watch/events.js';
import { shapeProblem } from '../helpers/output-schema.js';

const time = '2030-01-02T03:04:05.678Z';
const bodies: WatchEventBody[] = [
  {
    type: 'watching',
    file: '/x/agents.yaml',
    project: 'p',
    pid: 42,
    agents: 2,
    resyncMs: 30000,
    debounceMs: 100,
  },
  {
    type: 'reconcile',
    trigger: ['start'],
    ok: false,
    durationMs: 12,
    actions: [
      { kind: 'create', agent: 'a', cause: 'new', ok: true, durationMs: 3, repair: false },
      {
        kind: 'start',
        agent: 'b',
        cause: 'exited',
        ok: false,
        error: 'boom',
        durationMs: 1,
        repair: true,
        attempt: 2,
      },
    ],
    held: [{ agent: 'c', delayMs: 2000, retryInMs: 1500, retryAt: time, attempt: 3 }],
    withheld: ['m'],
    unreachable: [],
    unchanged: 1,
    unwell: [{ agent: 'd', message: 'unhealthy' }],
    newlyUnwell: ['d'],
    recovered: [],
    agents: 4,
  },
  { type: 'config-error', file: '/x/agents.yaml', messages: ['/x/agents.yaml:3:8: bad'] },
  { type: 'config-error', file: '/x/agents.yaml', messages: ['emptied'], optIn: 'allowEmpty' },
  { type: 'config-warning', message: '/x/agents.yaml:4:17: warning: host networking' },
  { type: 'error', kind: 'engine-unreachable', trigger: ['resync'], messages: ['cannot connect'] },
  { type: 'error', kind: 'preflight', trigger: ['start'], messages: ['image missing'], agents: ['m'] },
  {
    type: 'backoff',
    agent: 'a',
    state: 'started',
    attempt: 3,
    delayMs: 4000,
    retryAt: time,
    maxDelayMs: 60000,
    resetAfterMs: 30000,
  },
  { type: 'backoff', agent: 'a', state: 'ended', reason: 'recovered' },
  { type: 'engine', state: 'disconnected', message: 'the engine dropped the connection', retryInMs: 200 },
  { type: 'engine', state: 'connected' },
  // A file with engines: each engine's stream is named, the agents a lost one holds listed.
  {
    type: 'watching',
    file: '/x/agents.yaml',
    project: 'p',
    pid: 42,
    agents: 3,
    resyncMs: 30000,
    debounceMs: 100,
    engines: ['b', 'local'],
  },
  {
    type: 'reconcile',
    trigger: ['file'],
    ok: false,
    durationMs: 12,
    actions: [
      {
        kind: 'update',
        agent: 'x',
        cause: 'memory',
        ok: true,
        durationMs: 3,
        repair: false,
        engine: 'local',
      },
    ],
    held: [],
    withheld: [],
    unreachable: [{ engine: 'b', agents: ['w', 'y'], message: 'connect ECONNREFUSED' }],
    unchanged: 0,
    unwell: [],
    newlyUnwell: [],
    recovered: [],
    agents: 3,
  },
  {
    type: 'engine',
    state: 'disconnected',
    engine: 'b',
    message: 'the engine dropped the connection',
    retryInMs: 200,
    agents: ['w', 'y'],
  },
  { type: 'engine', state: 'connected', engine: 'b' },
  { type: 'stopping', reason: 'SIGTERM' },
  { type: 'stopped' },
];

describe('watch -o json lines match schemas/output/watch.json', () => {
  it.each(bodies.map((b) => [`${b.type}${'state' in b ? ` ${b.state}` : ''}`, b] as const))(
    '%s',
    (_name, body) => {
      const line = JSON.parse(
        JSON.stringify(watchEventToJson({ time, project: 'p', ...body } as WatchEvent)),
      ) as object;
      expect(shapeProblem('watch', line)).toBeUndefined();
      // Every key present: nothing the schema names is left out (null instead).
      expect(JSON.stringify(line)).not.toMatch(/undefined/);
    },
  );

  it('a line before the file was read has project null; a missing key or an unknown type is refused', () => {
    const early = watchEventToJson({ time, type: 'config-error', file: 'f', messages: ['m'] } as WatchEvent);
    expect(shapeProblem('watch', early)).toBeUndefined();
    expect(early).toMatchObject({ project: null, optIn: null });
    expect(shapeProblem('watch', { time, project: 'p', type: 'engine', state: 'connected' })).toBeDefined();
    expect(shapeProblem('watch', { time, project: 'p', type: 'nope' })).toBeDefined();
    expect(shapeProblem('watch', { time: 'yesterday', project: 'p', type: 'stopped' })).toBeDefined();
  });
});
