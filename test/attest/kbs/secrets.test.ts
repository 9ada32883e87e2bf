import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compactDecrypt, flattenedDecrypt, exportJWK, generateKeyPair } from 'jose';
import { SecretStore, resourceId } from '../../../src/attest/kbs/secrets.js';
import { importWrapKey, wrapCompact, wrapFlattened } from '../../../src/attest/kbs/wrap.js';
import { KbsRequestError } from '../../../src/attest/kbs/errors.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/attest-service/secrets', import.meta.url));
const temp = mkdtempSync(join(tmpdir(), 'confcom-secrets-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('secret store', () => {
  it('serves files by <repo>/<type>/<tag> and Secret manifests by <namespace>/<name>/<key>, with their policies', async () => {
    const store = new SecretStore(FIXTURES);
    expect(await store.validate()).toEqual(['apps/tls/key.pem', 'apps/tls/note', 'default/keys/db-password', 'other/keys/api-token']);
    const db = await store.get(resourceId('', 'keys', 'db-password'));
    expect(db?.value.toString()).toBe('s3cr3t-db-password-0451');
    expect(db?.policy?.anyOf[0]!.authority).toBe('https://confcom.test/');
    const other = await store.get(resourceId('other', 'keys', 'api-token'));
    expect(JSON.stringify(other?.policy)).toContain('sgx'); // the folder's own .release-policy.json
    const tls = await store.get(resourceId('apps', 'tls', 'key.pem'));
    expect(tls?.value.toString()).toBe('tls-private-key-material');
    expect(JSON.stringify(tls?.policy)).toContain('x-ms-sevsnpvm-vmpl'); // from the annotation
    expect((await store.get(resourceId('apps', 'tls', 'note')))?.value.toString()).toBe('plain-text-secret');
    expect(await store.get(resourceId('apps', 'not-a-secret', 'x'))).toBeUndefined();
    expect(await store.get(resourceId('default', 'keys', 'missing'))).toBeUndefined();
  });

  it('reads a mounted Kubernetes Secret (..data symlinks) and picks up rotation; no policy means undefined', async () => {
    const type = join(temp, 'default', 'mounted');
    mkdirSync(join(type, '..2026_01_01'), { recursive: true });
    writeFileSync(join(type, '..2026_01_01', 'token'), 'v1');
    symlinkSync('..2026_01_01', join(type, '..data'));
    symlinkSync('..data/token', join(type, 'token'));
    const store = new SecretStore(temp);
    expect(await store.validate()).toEqual(['default/mounted/token']);
    const secret = await store.get(resourceId('default', 'mounted', 'token'));
    expect(secret?.value.toString()).toBe('v1');
    expect(secret?.policy).toBeUndefined();
    writeFileSync(join(type, '..2026_01_01', 'token'), 'v2');
    expect((await store.get(resourceId('default', 'mounted', 'token')))?.value.toString()).toBe('v2');
  });

  it('refuses path traversal and dot-files in resource paths', () => {
    for (const [r, t, g] of [['..', 'keys', 'x'], ['default', '.data', 'x'], ['default', 'keys', '../../etc/passwd'], ['a/b', 'keys', 'x']]) {
      expect(() => resourceId(r!, t!, g!)).toThrow(KbsRequestError);
    }
  });
});

describe('wrapping secrets to the TEE key', () => {
  for (const [alg, opts] of [
    ['RSA-OAEP-256', { modulusLength: 2048 }],
    ['RSA-OAEP', { modulusLength: 2048 }],
    ['ECDH-ES+A256KW', { crv: 'P-384' }],
    ['ECDH-ES+A256KW', { crv: 'P-521' }],
    ['ECDH-ES', { crv: 'P-521' }],
    ['ECDH-ES', { crv: 'P-256' }],
  ] as const) {
    it(`${alg} ${JSON.stringify(opts)}: only the private key opens the JWE`, async () => {
      const tee = await generateKeyPair(alg, { ...opts, extractable: true });
      const intruder = await generateKeyPair(alg, { ...opts, extractable: true });
      const key = await importWrapKey({ ...(await exportJWK(tee.publicKey)), alg });
      const secret = Buffer.from('the secret');
      const flat = await wrapFlattened(secret, key);
      expect(JSON.stringify(flat)).not.toContain('the secret');
      expect(Buffer.from((await flattenedDecrypt(flat, tee.privateKey)).plaintext).toString()).toBe('the secret');
      await expect(flattenedDecrypt(flat, intruder.privateKey)).rejects.toThrow();
      const compact = await wrapCompact(secret, key);
      expect(Buffer.from((await compactDecrypt(compact, tee.privateKey)).plaintext).toString()).toBe('the secret');
    });
  }

  it('RSA1_5 (as trustee): the JWE opens with the private key by RFC 7516 steps done here', async () => {
    const { generateKeyPairSync, privateDecrypt, createDecipheriv, constants } = await import('node:crypto');
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = await importWrapKey({ ...pair.publicKey.export({ format: 'jwk' }), alg: 'RSA1_5' });
    const open = (jwe: { protected?: string; encrypted_key?: string; iv?: string; ciphertext: string; tag?: string }): string => {
      expect(JSON.parse(Buffer.from(jwe.protected!, 'base64url').toString())).toEqual({ alg: 'RSA1_5', enc: 'A256GCM' });
      // PKCS#1 v1.5 type 2 unpadding by hand (Node refuses PKCS1 private decryption since CVE-2023-46809).
      const em = privateDecrypt({ key: pair.privateKey, padding: constants.RSA_NO_PADDING }, Buffer.from(jwe.encrypted_key!, 'base64url'));
      expect(em[0]).toBe(0);
      expect(em[1]).toBe(2);
      const cek = em.subarray(em.indexOf(0, 2) + 1);
      expect(cek.length).toBe(32);
      const d = createDecipheriv('aes-256-gcm', cek, Buffer.from(jwe.iv!, 'base64url'));
      d.setAAD(Buffer.from(jwe.protected!, 'ascii'));
      d.setAuthTag(Buffer.from(jwe.tag!, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(jwe.ciphertext, 'base64url')), d.final()]).toString();
    };
    expect(open(await wrapFlattened(Buffer.from('rsa15 secret'), key))).toBe('rsa15 secret');
    const [p, k, iv, c, t] = (await wrapCompact(Buffer.from('compact'), key)).split('.');
    expect(open({ protected: p!, encrypted_key: k, iv, ciphertext: c!, tag: t })).toBe('compact');
  });

  it('refuses private keys, unknown algorithms and curves, small RSA keys and unknown key types', async () => {
    const rsa = await generateKeyPair('RSA-OAEP-256', { modulusLength: 2048, extractable: true });
    const { generateKeyPairSync } = await import('node:crypto');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const cases: unknown[] = [
      await exportJWK(rsa.privateKey),
      { ...(await exportJWK(rsa.publicKey)), alg: 'RSA-OAEP-512' },
      { kty: 'EC', crv: 'secp256k1', x: 'AA', y: 'AA', alg: 'ECDH-ES' },
      { ...small, alg: 'RSA-OAEP-256' },
      { kty: 'oct', k: 'AAAA' },
      'not a key',
    ];
    for (const jwk of cases) await expect(importWrapKey(jwk)).rejects.toMatchObject({ code: 'tee_pubkey_invalid' });
  });
});
