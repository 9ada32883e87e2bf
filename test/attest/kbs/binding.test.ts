import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJson } from '../../../src/attest/kbs/canonical-json.js';
import { expectedReportData, matchBinding } from '../../../src/attest/kbs/binding.js';
import { SessionStore } from '../../../src/attest/kbs/sessions.js';

const KEY = { kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', x: 'xx', y: 'yy' };

describe('KBS evidence binding', () => {
  it('canonical JSON sorts keys at every level and drops whitespace', () => {
    expect(canonicalJson({ b: [1, { d: 'x', c: null }], a: 'é"' })).toBe('{"a":"é\\"","b":[1,{"c":null,"d":"x"}]}');
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        // Same value, any key order: same text; and the text parses back to an equal value.
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it('REPORT_DATA is H({"nonce","tee-pubkey"}) zero-padded, SHA-384 or SHA-256', () => {
    const text = `{"nonce":"n0nce","tee-pubkey":{"alg":"ECDH-ES+A256KW","crv":"P-256","kty":"EC","x":"xx","y":"yy"}}`;
    const sha384 = createHash('sha384').update(text).digest();
    expect(expectedReportData('n0nce', KEY).subarray(0, 48)).toEqual(sha384);
    expect(expectedReportData('n0nce', KEY).subarray(48)).toEqual(Buffer.alloc(16));
    expect(matchBinding(expectedReportData('n0nce', KEY), 'n0nce', KEY)).toBe('sha384');
    expect(matchBinding(expectedReportData('n0nce', KEY, 'sha256'), 'n0nce', KEY)).toBe('sha256');
    expect(matchBinding(expectedReportData('n0nce', KEY), 'other', KEY)).toBeUndefined();
    expect(matchBinding(expectedReportData('n0nce', KEY), 'n0nce', { ...KEY, x: 'xz' })).toBeUndefined();
    expect(matchBinding(Buffer.alloc(32), 'n0nce', KEY)).toBeUndefined();
  });
});

describe('KBS sessions', () => {
  it('nonces are single-use and expire', () => {
    let now = 0;
    const store = new SessionStore({ nonceTtlMs: 1000, now: () => now });
    const a = store.open('snp');
    const b = store.open('snp');
    expect(a.nonce).not.toBe(b.nonce);
    expect(store.consumeNonce(a.id)).toMatchObject({ ok: true });
    expect(store.consumeNonce(a.id)).toEqual({ ok: false, reason: 'nonce_replayed' });
    expect(store.consumeNonce('nope')).toEqual({ ok: false, reason: 'unknown_session' });
    expect(store.consumeNonce(undefined)).toEqual({ ok: false, reason: 'unknown_session' });
    now = 1001;
    expect(store.consumeNonce(b.id)).toEqual({ ok: false, reason: 'nonce_expired' });
    expect(store.consumeNonce(b.id)).toEqual({ ok: false, reason: 'nonce_replayed' });
  });

  it('an attested session lives until its token expires; the store stays bounded', () => {
    let now = 0;
    const store = new SessionStore({ maxSessions: 3, now: () => now });
    const s = store.open('sgx');
    s.token = 't';
    s.tokenExpiresAtMs = 500;
    expect(store.authenticated(s.id)).toBe(s);
    now = 500;
    expect(store.authenticated(s.id)).toBeUndefined();
    for (let i = 0; i < 10; i++) store.open('snp');
    expect(store.size()).toBeLessThanOrEqual(3);
  });
});
