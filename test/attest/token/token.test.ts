import { describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { SigningKeyRing } from '../../../src/attest/token/keys.js';
import { issueToken, verifyToken } from '../../../src/attest/token/jwt.js';
import { TokenError } from '../../../src/attest/token/errors.js';

const ISSUER = 'http://127.0.0.1:1';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'no error';
  } catch (error) {
    expect(error).toBeInstanceOf(TokenError);
    return (error as TokenError).code;
  }
}

function flip(token: string, part: number): string {
  const parts = token.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('attestation tokens', () => {
  for (const alg of ['ES256', 'RS256'] as const) {
    it(`${alg}: a token verifies with the published JWKS (as a relying party would) and with the ring`, async () => {
      const ring = await SigningKeyRing.create({ alg });
      const token = await issueToken(ring, { 'x-ms-attestation-type': 'sevsnpvm' }, { issuer: ISSUER, ttlSeconds: 60 });
      const viaJwks = await jwtVerify(token, createLocalJWKSet(ring.jwks()), { issuer: ISSUER });
      expect(viaJwks.protectedHeader.alg).toBe(alg);
      expect(viaJwks.protectedHeader.jku).toBe(`${ISSUER}/certs`);
      const payload = await verifyToken(ring, token, { issuer: ISSUER });
      expect(payload['x-ms-attestation-type']).toBe('sevsnpvm');
      expect(payload.exp! - payload.iat!).toBe(60);
    });
  }

  it('refuses tampered payloads and signatures, other issuers and foreign keys', async () => {
    const ring = await SigningKeyRing.create();
    const token = await issueToken(ring, { 'x-ms-sevsnpvm-hostdata': 'aa'.repeat(32) }, { issuer: ISSUER, ttlSeconds: 60 });
    // Re-encode the payload with a changed claim but keep the old signature.
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(token), 'x-ms-sevsnpvm-hostdata': 'bb'.repeat(32) })).toString('base64url');
    expect(await codeOf(verifyToken(ring, `${h}.${forged}.${s}`, { issuer: ISSUER }))).toBe('token_bad_signature');
    expect(await codeOf(verifyToken(ring, flip(token, 2), { issuer: ISSUER }))).toBe('token_bad_signature');
    expect(await codeOf(verifyToken(ring, token, { issuer: 'http://elsewhere' }))).toBe('token_bad_issuer');
    expect(await codeOf(verifyToken(ring, 'not-a-token', { issuer: ISSUER }))).toBe('token_malformed');
    const other = await SigningKeyRing.create();
    const foreign = await issueToken(other, {}, { issuer: ISSUER, ttlSeconds: 60 });
    expect(await codeOf(verifyToken(ring, foreign, { issuer: ISSUER }))).toBe('token_unknown_key');
    // alg confusion: an RS256 ring must not accept an ES256 token even if the kid were known.
    const rsa = await SigningKeyRing.create({ alg: 'RS256' });
    expect(await codeOf(verifyToken(rsa, token, { issuer: ISSUER }))).toBe('token_bad_algorithm');
  });

  it('refuses expired and not-yet-valid tokens', async () => {
    const ring = await SigningKeyRing.create();
    const now = 1_900_000_000;
    const token = await issueToken(ring, {}, { issuer: ISSUER, ttlSeconds: 30, nowSeconds: now });
    expect((await verifyToken(ring, token, { issuer: ISSUER, nowSeconds: now + 29 })).iss).toBe(ISSUER);
    expect(await codeOf(verifyToken(ring, token, { issuer: ISSUER, nowSeconds: now + 30 }))).toBe('token_expired');
    expect(await codeOf(verifyToken(ring, token, { issuer: ISSUER, nowSeconds: now - 10 }))).toBe('token_not_yet_valid');
  });

  it('rotates keys: old tokens verify while the retired key is retained, then the key leaves the JWKS', async () => {
    let clock = 0;
    const ring = await SigningKeyRing.create({ rotateAfterMs: 1000, retainAfterRetireMs: 500, now: () => clock });
    const first = await issueToken(ring, {}, { issuer: ISSUER, ttlSeconds: 3600, nowSeconds: 0 });
    const firstKid = ring.jwks().keys[0]!.kid;
    clock = 1000; // due: the next signature rotates
    const second = await issueToken(ring, {}, { issuer: ISSUER, ttlSeconds: 3600, nowSeconds: 1 });
    const kids = ring.jwks().keys.map((k) => k.kid);
    expect(kids).toHaveLength(2);
    expect(kids[0]).toBe(firstKid);
    expect(kids[1]).not.toBe(firstKid);
    expect((await verifyToken(ring, first, { issuer: ISSUER, nowSeconds: 1 })).iss).toBe(ISSUER);
    clock = 1501; // the retired key is past retention
    expect(ring.jwks().keys.map((k) => k.kid)).toEqual([kids[1]]);
    expect(await codeOf(verifyToken(ring, first, { issuer: ISSUER, nowSeconds: 1 }))).toBe('token_unknown_key');
    expect((await verifyToken(ring, second, { issuer: ISSUER, nowSeconds: 1 })).iss).toBe(ISSUER);
    // Public keys only.
    for (const k of ring.jwks().keys) expect(k).not.toHaveProperty('d');
  });
});
