/** crypto.x509.parse_keypair: matching keys accepted (no key material in the result), others refused. */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildCertificate, toPem } from '../../src/attest/certs/builder.js';
import { RegoEngine, serializeJson } from '../../src/rego/index.js';

function selfSigned() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = buildCertificate({ subject: { CN: 'test' }, issuer: { CN: 'test' }, serial: 7, notBefore: new Date('2026-01-01'), notAfter: new Date('2027-01-01'), publicKey, signingKey: privateKey, hash: 'sha256' });
  return { der, cert: toPem(der), key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
}

function keypair(cert: string, key: string) {
  const engine = new RegoEngine({ strictBuiltinErrors: true });
  engine.addModule('package t\np := crypto.x509.parse_keypair(input.cert, input.key)\n', 't.rego');
  return engine.evalRule('data.t.p', { input: { cert, key } }).value;
}

describe('crypto.x509.parse_keypair', () => {
  it('returns the chain as base64 DER, PEM or base64 of PEM, and never the private key', () => {
    const { der, cert, key } = selfSigned();
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    for (const [c, k] of [[cert, key], [b64(cert), b64(key)]]) {
      const out = serializeJson(keypair(c, k) ?? null);
      expect(JSON.parse(out).Certificate).toEqual([der.toString('base64')]);
      expect(out).not.toContain('PRIVATE');
      expect(JSON.parse(out).PrivateKey).toBeNull();
    }
  });

  it('refuses a key that belongs to another certificate', () => {
    const a = selfSigned();
    const b = selfSigned();
    expect(() => keypair(a.cert, b.key)).toThrow(/private key does not match public key/);
  });
});
