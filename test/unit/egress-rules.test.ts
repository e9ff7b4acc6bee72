import { describe, expect, it } from 'vitest';
import { compilePolicy, decide, parseRule } from '../../src/egress/rules.js';

describe('parseRule', () => {
  const good: [string, object][] = [
    ['api.anthropic.com:443', { kind: 'host', host: 'api.anthropic.com', wildcard: false, port: 443 }],
    ['*.pypi.org', { kind: 'host', host: 'pypi.org', wildcard: true }],
    ['198.18.0.0/15:80', { kind: 'cidr', bits: 15, port: 80 }],
    ['10.1.2.3', { kind: 'cidr', bits: 32 }],
  ];
  it.each(good)('%s', (text, shape) => expect(parseRule(text)).toMatchObject(shape));

  const bad: [string, RegExp][] = [
    ['', /must not be empty/],
    ['host:0', /port must be 1-65535/],
    ['host:99999', /port must be 1-65535/],
    ['10.0.0.1/8', /host bits are set; write 10\.0\.0\.0\/8/],
    ['10.0.0.0/33', /at most 32/],
    ['::1', /only IPv4/],
    ['a b', /not a host/],
    ['-x.com', /not a host name/],
    ['*.', /not a host name/],
  ];
  it.each(bad)('refuses %j', (text, message) => expect(parseRule(text)).toMatch(message));
});

describe('decide', () => {
  const dns: Record<string, string[]> = {
    'api.anthropic.com': ['203.0.113.10'],
    'files.pypi.org': ['203.0.113.20'],
    'upload.pypi.org': ['203.0.113.21'],
    'evil.example': ['169.254.169.254'],
    'loop.example': ['127.0.0.1'],
    'host.example': ['192.168.1.5'],
    'lab.example': ['198.18.0.7'],
  };
  const resolve = async (h: string) => {
    const a = dns[h];
    if (!a) throw new Error('ENOTFOUND');
    return a;
  };
  const policy = compilePolicy({
    allow: [
      'api.anthropic.com:443',
      '*.pypi.org',
      '198.18.0.0/15:80',
      'evil.example',
      'loop.example',
      'host.example',
      '127.0.0.1/32:8080',
    ],
    deny: ['upload.pypi.org'],
  });
  const hosts = new Set(['192.168.1.5']);
  const cases: [string, number, boolean, string, RegExp?][] = [
    ['api.anthropic.com', 443, true, 'allow api.anthropic.com:443'],
    ['api.anthropic.com', 80, false, '(default deny)'],
    ['files.pypi.org', 443, true, 'allow *.pypi.org'],
    ['pypi.org', 443, false, '(default deny)'],
    ['upload.pypi.org', 443, false, 'deny upload.pypi.org'],
    ['198.18.0.9', 80, true, 'allow 198.18.0.0/15:80'],
    ['198.18.0.9', 81, false, '(default deny)'],
    // CIDR rules are for addresses: a name is only ever allowed by a host rule (and then resolved).
    ['lab.example', 80, false, '(default deny)'],
    ['evil.example', 80, false, 'allow evil.example', /link-local/],
    ['loop.example', 80, false, 'allow loop.example', /loopback/],
    ['loop.example', 8080, true, 'allow loop.example'],
    ['host.example', 80, false, 'allow host.example', /Docker host's own address/],
    ['nowhere.example', 80, false, '(default deny)'],
    ['gone.pypi.org', 443, false, 'allow *.pypi.org', /cannot resolve/],
    ['127.0.0.1', 8080, true, 'allow 127.0.0.1/32:8080'],
    ['169.254.169.254', 80, false, '(default deny)'],
    ['API.Anthropic.COM.', 443, true, 'allow api.anthropic.com:443'],
  ];
  it.each(cases)('%s:%i', async (host, port, allowed, rule, reason) => {
    const d = await decide(policy, host, port, resolve, hosts);
    expect(d.allowed).toBe(allowed);
    expect(d.rule).toBe(rule);
    if (reason && !d.allowed) expect(d.reason).toMatch(reason);
  });
});

describe('decide never looks up a name no rule allows', () => {
  it('so a denied name cannot carry data out in a DNS query', async () => {
    const asked: string[] = [];
    const policy = compilePolicy({ allow: ['ok.test', '10.0.0.0/8'], deny: [] });
    const d = await decide(
      policy,
      'c2VjcmV0.exfil.example',
      443,
      async (h) => {
        asked.push(h);
        return ['10.0.0.1'];
      },
      new Set(),
    );
    expect(d.allowed).toBe(false);
    expect(asked).toEqual([]);
  });
});
