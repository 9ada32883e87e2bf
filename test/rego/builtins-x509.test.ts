/** crypto.x509.parse_keypair (no key material in the result) and parse_certificate_request (against openssl's requests). */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCertificate, toPem } from '../../src/attest/certs/builder.js';
import { RegoEngine, serializeJson } from '../../src/rego/index.js';
import { hasTool } from '../helpers/tools.js';

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

describe.skipIf(!hasTool('openssl'))('crypto.x509.parse_certificate_request (requests made by openssl)', () => {
  it('reads the subject of RSA and EC requests in PEM, base64 of PEM and base64 of DER', () => {
    const dir = mkdtempSync(join(tmpdir(), 'confcom-csr-'));
    try {
      for (const [alg, opts, code] of [['rsa', ['-newkey', 'rsa:2048'], 1], ['ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 3]] as const) {
        const pem = execFileSync('openssl', ['req', '-new', ...opts, '-nodes', '-keyout', join(dir, `${alg}.key`), '-subj', '/C=DE/O=Acme/OU=Ops/CN=svc.example.com'], { encoding: 'utf8' });
        const der = execFileSync('openssl', ['req', '-outform', 'DER'], { input: pem });
        for (const input of [pem, Buffer.from(pem).toString('base64'), der.toString('base64')]) {
          const engine = new RegoEngine({ strictBuiltinErrors: true });
          engine.addModule('package t\np := crypto.x509.parse_certificate_request(input.csr)\n', 't.rego');
          const out = JSON.parse(serializeJson(engine.evalRule('data.t.p', { input: { csr: input } }).value ?? null));
          expect(out.Subject).toMatchObject({ CommonName: 'svc.example.com', Country: ['DE'], Organization: ['Acme'], OrganizationalUnit: ['Ops'] });
          expect(out.PublicKeyAlgorithm).toBe(code);
          expect(out.Raw).toBe(der.toString('base64'));
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses truncated DER with an asn1 structure error', () => {
    const engine = new RegoEngine({ strictBuiltinErrors: true });
    engine.addModule('package t\np := crypto.x509.parse_certificate_request("MIICmDCCAYACAQAw")\n', 't.rego');
    expect(() => engine.evalRule('data.t.p')).toThrow(/asn1: structure error/);
  });
});
