/** The engine's event stream parsed into domain events, and the watch log rendered as text. */
import { describe, expect, it } from 'vitest';
import { containerEventsFrom } from '../../src/docker/events.js';
import { describeTrigger, FleetStatus, watchLines } from '../../src/render/watch.js';
import type { WatchEvent } from '../../src/watch/events.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield Buffer.from(p);
}

describe('engine event stream', () => {
  // As the engine writes it: timeNano is beyond a double's precision, which is fine to the millisecond.
  const die =
    '{"status":"die","id":"abc","Type":"container","Action":"die",' +
    '"Actor":{"ID":"abc","Attributes":{"agentctl.agent":"a","exitCode":"1"}},' +
    '"scope":"local","time":1700000000,"timeNano":1700000000123456789}';
  const network = JSON.stringify({ Type: 'network', Action: 'connect', Actor: { ID: 'n' } });

  it('yields container events across chunk boundaries and skips everything else', async () => {
    const text = `${die}\n${network}\nnot json\n${die.replace('"Action":"die"', '"Action":"exec_start: sh -c true"')}\n`;
    const events = await collect(
      containerEventsFrom(chunks(text.slice(0, 17), text.slice(17, 150), text.slice(150))),
    );
    expect(events).toEqual([
      {
        action: 'die',
        containerId: 'abc',
        attributes: { 'agentctl.agent': 'a', exitCode: '1' },
        timeMs: 1700000000123,
      },
      {
        action: 'exec_start: sh -c true',
        containerId: 'abc',
        attributes: { 'agentctl.agent': 'a', exitCode: '1' },
        timeMs: 1700000000123,
      },
    ]);
  });
});

describe('watch log as text', () => {
  const time = '2030-01-02T03:04:05.000Z';
  const reconcile = (over: Partial<Extract<WatchEvent, { type: 'reconcile' }>>): WatchEvent => ({
    time,
    type: 'reconcile',
    trigger: ['resync'],
    ok: true,
    durationMs: 120,
    actions: [],
    held: [],
    withheld: [],
    unreachable: [],
    unchanged: 2,
    agents: 2,
    unwell: [],
    newlyUnwell: [],
    recovered: [],
    ...over,
  });

  it('says nothing for a routine no-op, and confirms a save that changed nothing', () => {
    expect(watchLines(reconcile({}))).toEqual([]);
    expect(watchLines(reconcile({ trigger: ['file'] })).map((l) => l.text)).toEqual([
      expect.stringMatching(/in sync \(file\): 2 agent\(s\) unchanged, in 0\.12s$/),
    ]);
  });

  it('puts what changed and how long it took on one line, and each failure on its own line on stderr', () => {
    const lines = watchLines(
      reconcile({
        trigger: ['engine:die:a', 'engine:die:b'],
        ok: false,
        actions: [
          { kind: 'start', agent: 'a', cause: 'x', ok: true, durationMs: 30, repair: true, attempt: 2 },
          {
            kind: 'update',
            agent: 'b',
            cause: 'y',
            ok: false,
            error: 'no such container',
            durationMs: 5,
            repair: false,
          },
        ],
        unchanged: 1,
      }),
    );
    expect(lines).toEqual([
      {
        stream: 'out',
        text: expect.stringMatching(
          /reconciled with failures \(engine: die a, die b\): ~ start a \(repair 2\), ~ update b; 1 unchanged, in 0\.12s$/,
        ),
      },
      { stream: 'err', text: expect.stringMatching(/FAIL update b: no such container$/) },
    ]);
  });

  it('names the withheld agents: on the reconcile line, in their error, and on the status line', () => {
    const withheld = ['b'];
    expect(watchLines(reconcile({ trigger: ['file'], withheld, unchanged: 1 })).map((l) => l.text)).toEqual([
      expect.stringMatching(/partly in sync \(file\): 1 agent\(s\) unchanged, 1 withheld \(b\), in 0\.12s$/),
    ]);
    expect(
      watchLines(
        reconcile({
          trigger: ['engine:destroy:a'],
          actions: [{ kind: 'create', agent: 'a', cause: 'x', ok: true, durationMs: 30, repair: true }],
          withheld,
          unchanged: 0,
        }),
      ).map((l) => l.text),
    ).toEqual([
      expect.stringMatching(
        /reconciled \(engine: destroy a\): \+ create a \(repair 1\); 0 unchanged, 1 withheld \(b\), in 0\.12s$/,
      ),
    ]);
    const lines = watchLines({
      time,
      type: 'error',
      kind: 'preflight',
      trigger: ['file'],
      messages: ['/x/agents.yaml:9:3: image "nope" is not present on the engine (needed by b); ...'],
      agents: ['b'],
    });
    expect(lines).toEqual([
      {
        stream: 'err',
        text: expect.stringMatching(
          /error \(file\): \/x\/agents\.yaml:9:3: image "nope" is not present .*; withholding b \(the other agents are applied\), retried on every reconcile$/,
        ),
      },
    ]);
    const s = new FleetStatus();
    s.update(reconcile({ withheld }));
    expect(s.line()).toMatch(/ · 1 withheld \(b\) · /);
  });

  it('says a back-off once when it starts and once when it ends, never on the reconciles in between', () => {
    const held = [{ agent: 'c', delayMs: 2000, retryInMs: 1500, retryAt: time, attempt: 3 }];
    // A reconcile that only finds c still held (an engine event of the crash loop) prints nothing.
    expect(watchLines(reconcile({ trigger: ['engine:die:c'], held }))).toEqual([]);
    const started = watchLines({
      time,
      type: 'backoff',
      agent: 'c',
      state: 'started',
      attempt: 3,
      delayMs: 2000,
      retryAt: '2030-01-02T03:04:06.500Z',
      maxDelayMs: 60_000,
      resetAfterMs: 30_000,
    });
    expect(started).toEqual([
      {
        stream: 'out',
        text: expect.stringMatching(
          /backing off: c needs repairs again and again \(crash loop\?\); repair 3 in 1\.5s, after a 2s back-off, each next wait doubling up to 60s; said once, until it stays up 30s$/,
        ),
      },
    ]);
    const ended = (reason: 'recovered' | 'changed' | 'removed') =>
      watchLines({ time, type: 'backoff', agent: 'c', state: 'ended', reason }).map((l) => l.text);
    expect(ended('recovered')).toEqual([
      expect.stringMatching(/back-off over: c stayed up after its last repair/),
    ]);
    expect(ended('changed')).toEqual([expect.stringMatching(/back-off over: c changed in the file/)]);
    expect(ended('removed')).toEqual([expect.stringMatching(/back-off over: c is no longer declared$/)]);
  });

  it('prints config errors as file:line:col lines, after a line saying the last good state is kept', () => {
    const lines = watchLines({
      time,
      type: 'config-error',
      file: '/x/agents.yaml',
      messages: ['/x/agents.yaml:3:7: bad'],
    });
    expect(lines.map((l) => l.stream)).toEqual(['err', 'err']);
    expect(lines[0]?.text).toMatch(/keeping the last good state/);
    expect(lines[1]?.text).toBe('/x/agents.yaml:3:7: bad');
  });

  it('says once when an agent starts and stops failing; the status line shows it meanwhile', () => {
    const loop = { agent: 'a', message: 'restart-looping (restarted 3 time(s))' };
    const sick = { agent: 'b', message: 'unhealthy (its healthcheck fails: exit 1, "db down")' };
    const first = watchLines(reconcile({ unwell: [loop, sick], newlyUnwell: ['a', 'b'] }));
    expect(first.map((l) => [l.stream, l.text.replace(/^\S+ /, '')])).toEqual([
      ['err', '! a is restart-looping (restarted 3 time(s))'],
      ['err', '! b is unhealthy (its healthcheck fails: exit 1, "db down")'],
    ]);
    // The same loop at the next resync: nothing new to say.
    expect(watchLines(reconcile({ unwell: [loop, sick] }))).toEqual([]);
    const later = watchLines(reconcile({ unwell: [sick], recovered: ['a'] }));
    expect(later.map((l) => l.text.replace(/^\S+ /, ''))).toEqual(['no longer failing: a']);

    const s = new FleetStatus();
    s.update(reconcile({ unwell: [loop, sick] }));
    expect(s.line()).toMatch(/ · 2 not well \(a restart-looping, b unhealthy\) · /);
    s.update(reconcile({ unwell: [] }));
    expect(s.line()).not.toMatch(/not well/);
  });

  it('summarises long trigger lists', () => {
    expect(describeTrigger(['file', 'engine:die:a', 'engine:stop:b', 'engine:kill:c', 'engine:oom:d'])).toBe(
      'file; engine: die a, stop b, kill c (+1 more)',
    );
  });

  it('shows the fleet on one status line', () => {
    const s = new FleetStatus();
    s.update({
      time,
      type: 'watching',
      file: 'f',
      project: 'demo',
      pid: 1,
      agents: 3,
      resyncMs: 1,
      debounceMs: 1,
    });
    s.update(
      reconcile({
        agents: 3,
        held: [{ agent: 'c', delayMs: 2000, retryInMs: 1500, retryAt: time, attempt: 3 }],
      }),
    );
    s.update({ time, type: 'engine', state: 'disconnected', message: 'gone' });
    expect(s.line()).toMatch(
      /^watching: demo · 3 agent\(s\) · 1 backing off \(c at \d\d:\d\d:\d\d\) · engine unreachable · last reconcile/,
    );
  });

  it('with several engines: names the engine that went away once, with the agents it holds; the rest goes on', () => {
    const lost: WatchEvent = {
      time,
      type: 'engine',
      state: 'disconnected',
      engine: 'b',
      message: 'connect ECONNREFUSED /run/b.sock',
      retryInMs: 200,
      agents: ['w', 'y'],
    };
    expect(watchLines(lost).map((l) => [l.stream, l.text.replace(/^\S+ /, '')])).toEqual([
      [
        'err',
        "engine b: engine event stream lost: connect ECONNREFUSED /run/b.sock; holding its agents (w, y) until it is back, the other engines' are served; reconnecting (first retry in 0.2s)",
      ],
    ]);
    const away = [{ engine: 'b', agents: ['w', 'y'], message: 'gone' }];
    // A change applied on another engine meanwhile: done, and not called a failure.
    const applied = watchLines(
      reconcile({
        trigger: ['file'],
        ok: false,
        unreachable: away,
        actions: [{ kind: 'update', agent: 'x', cause: 'memory', ok: true, durationMs: 30, repair: false }],
      }),
    );
    expect(applied.map((l) => l.text.replace(/^\S+ /, ''))).toEqual([
      'reconciled (file): ~ update x; 2 unchanged, engine b unreachable (w, y held), in 0.12s',
    ]);
    expect(watchLines(reconcile({ trigger: ['file'], unreachable: away }))[0]?.text).toMatch(
      /partly in sync \(file\): 2 agent\(s\) unchanged, engine b unreachable \(w, y held\)/,
    );
    // A resync that finds it still away says nothing more: the status line shows it.
    expect(watchLines(reconcile({ unreachable: away }))).toEqual([]);

    const s = new FleetStatus();
    s.update({
      time,
      type: 'watching',
      file: 'f',
      project: 'demo',
      pid: 1,
      agents: 3,
      resyncMs: 1,
      debounceMs: 1,
      engines: ['b', 'local'],
    });
    expect(s.line()).toMatch(/ · 2 engines connected/);
    s.update(lost);
    expect(s.line()).toMatch(/ · engine b unreachable \(2 agent\(s\) held\)/);
    const back: WatchEvent = { time, type: 'engine', state: 'connected', engine: 'b' };
    expect(watchLines(back)[0]?.text).toMatch(
      /engine b: engine event stream reconnected; resyncing its agents$/,
    );
    s.update(back);
    expect(s.line()).toMatch(/ · 2 engines connected/);
  });
});
