/**
 * A signing key shared by replicas (`serve attestation --signing-key`): two rings loaded from the same
 * PEM publish the same kid and verify each other's tokens; a ring from another key does not; the
 * shared key never rotates (a replica rotating alone would sign tokens the others cannot verify).
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SigningKeyRing } from '../../../src/attest/token/keys.js';
import { issueToken, verifyToken } from '../../../src/attest/token/jwt.js';

const pem = (type: 'ec' | 'rsa') =>
  (type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 })).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('a shared token signing key', () => {
  it.each([['ec', 'ES256'], ['rsa', 'RS256']] as const)('%s: replicas from one PEM sign and verify each other\'s tokens (%s), and never rotate', async (type, alg) => {
    const key = pem(type);
    let now = Date.now();
    const a = await SigningKeyRing.fromPrivateKeyPem(key, () => now);
    const b = await SigningKeyRing.fromPrivateKeyPem(key, () => now);
    expect(a.alg).toBe(alg);
    expect(a.jwks()).toEqual(b.jwks());
    expect(a.jwks().keys[0]).not.toHaveProperty('d');
    const token = await issueToken(a, { sub: 'x' }, { issuer: 'https://svc', ttlSeconds: 60 });
    expect((await verifyToken(b, token, { issuer: 'https://svc' })).sub).toBe('x');
    const stranger = await SigningKeyRing.fromPrivateKeyPem(pem(type));
    await expect(verifyToken(stranger, token, { issuer: 'https://svc' })).rejects.toBeDefined();
    now += 365 * 24 * 3600_000;
    expect((await a.signingKey()).kid).toBe(b.jwks().keys[0]!.kid);
  });

  it('refuses keys that cannot sign our tokens', async () => {
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await expect(SigningKeyRing.fromPrivateKeyPem(ed)).rejects.toThrow(/EC P-256 or RSA/);
    await expect(SigningKeyRing.fromPrivateKeyPem('not a key')).rejects.toBeDefined();
  });
});
