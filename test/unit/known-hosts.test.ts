import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  fingerprintOf,
  keyTypeOf,
  knownHostsName,
  knownKeyTypes,
  verifyHostKey,
} from '../../src/docker/known-hosts.js';

/** An ssh-ed25519 public key blob: string "ssh-ed25519", string key (32 bytes). */
function ed25519Blob(): Buffer {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
}

const key = ed25519Blob();
const other = ed25519Blob();
const b64 = key.toString('base64');
const line = (hosts: string, k = b64) => `${hosts} ssh-ed25519 ${k}`;
function hashed(name: string): string {
  const salt = Buffer.from('0123456789abcdef0123');
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  it('names hosts as OpenSSH files them', () => {
    expect(knownHostsName('gpu-box', 22)).toBe('gpu-box');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  it.each([
    ['plain name', [line('gpu-box')], 'gpu-box', 22, { ok: true }],
    ['one of a list, any case', [line('lab,GPU-BOX,10.0.0.5')], 'gpu-box', 22, { ok: true }],
    ['a port', [line('[gpu-box]:2222')], 'gpu-box', 2222, { ok: true }],
    ['a port is not port 22', [line('[gpu-box]:2222')], 'gpu-box', 22, { ok: false, reason: 'unknown' }],
    ['wildcard', [line('*.lab.example')], 'gpu.lab.example', 22, { ok: true }],
    [
      'negated wildcard',
      [line('*.lab.example,!gpu.lab.example')],
      'gpu.lab.example',
      22,
      { ok: false, reason: 'unknown' },
    ],
    ['hashed', [line(hashed('[gpu-box]:2222'))], 'gpu-box', 2222, { ok: true }],
    ['comments and blank lines', ['# x\n\n' + line('gpu-box') + ' a comment\n'], 'gpu-box', 22, { ok: true }],
    ['second file', ['', line('gpu-box')], 'gpu-box', 22, { ok: true }],
    ['unknown host', [line('lab')], 'gpu-box', 22, { ok: false, reason: 'unknown' }],
    [
      'changed key',
      [line('gpu-box', other.toString('base64'))],
      'gpu-box',
      22,
      { ok: false, reason: 'changed' },
    ],
    [
      'revoked beats trusted',
      [line('gpu-box'), `@revoked gpu-box ssh-ed25519 ${b64}`],
      'gpu-box',
      22,
      { ok: false, reason: 'revoked' },
    ],
    [
      'a CA line trusts nothing here',
      [`@cert-authority gpu-box ssh-ed25519 ${b64}`],
      'gpu-box',
      22,
      { ok: false, reason: 'unknown' },
    ],
  ])('%s', (_what, files, host, port, verdict) => {
    expect(verifyHostKey(files, host, port, key)).toMatchObject(verdict);
  });

  it('a refusal carries the offered key as ssh prints it', () => {
    const v = verifyHostKey([], 'gpu-box', 22, key);
    expect(v).toMatchObject({ ok: false, keyType: 'ssh-ed25519', fingerprint: fingerprintOf(key) });
    expect(fingerprintOf(key)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(keyTypeOf(key)).toBe('ssh-ed25519');
  });

  it('lists the key types held for a host (asked for first in the handshake)', () => {
    const files = [
      `gpu-box ecdsa-sha2-nistp256 AAAA\n${line('gpu-box')}\n${line('lab')}\n@revoked gpu-box ssh-rsa AAAA`,
    ];
    expect(knownKeyTypes(files, 'gpu-box', 22)).toEqual(['ecdsa-sha2-nistp256', 'ssh-ed25519']);
  });
});
