/**
 * The guest's ephemeral key pair. The private key is a non-extractable WebCrypto key: it exists only
 * inside this process and cannot be exported, logged or serialised; only the public JWK is sent. A new
 * pair is made for each attestation, as the KBS protocol asks ("valid until the next challenge").
 */
import { exportJWK, flattenedDecrypt, compactDecrypt, generateKeyPair, type FlattenedJWE, type JWK } from 'jose';
import { webcrypto } from 'node:crypto';
import { GuestFlowError } from './errors.js';

export type EphemeralAlg = 'ECDH-ES+A256KW' | 'RSA-OAEP-256';

export interface EphemeralKey {
  readonly publicJwk: JWK;
  decryptFlattened(jwe: FlattenedJWE): Promise<Buffer>;
  decryptCompact(jwe: string): Promise<Buffer>;
  /** RSA-OAEP (SHA-256) decryption of raw bytes, for Key Vault's CKM_RSA_AES_KEY_WRAP (RSA keys only). */
  decryptRsaOaep(data: Buffer): Promise<Buffer>;
}

export async function ephemeralKey(alg: EphemeralAlg = 'ECDH-ES+A256KW'): Promise<EphemeralKey> {
  const pair = await generateKeyPair(alg, alg === 'ECDH-ES+A256KW' ? { crv: 'P-256', extractable: false } : { modulusLength: 2048, extractable: false });
  const exported = await exportJWK(pair.publicKey);
  const publicJwk: JWK = alg === 'ECDH-ES+A256KW' ? { kty: 'EC', crv: exported.crv, alg, x: exported.x, y: exported.y } : { kty: 'RSA', alg, n: exported.n, e: exported.e };
  const fail = (): never => {
    throw new GuestFlowError('decrypt', 'jwe_decrypt_failed', 'the released secret does not decrypt with this attestation\'s key', {
      hint: 'the response was not wrapped to the key sent in the attestation; re-attest',
    });
  };
  return {
    publicJwk,
    decryptFlattened: async (jwe) => Buffer.from((await flattenedDecrypt(jwe, pair.privateKey, { keyManagementAlgorithms: [alg] }).catch(fail)).plaintext),
    decryptCompact: async (jwe) => Buffer.from((await compactDecrypt(jwe, pair.privateKey, { keyManagementAlgorithms: [alg] }).catch(fail)).plaintext),
    decryptRsaOaep: async (data) => {
      if (alg !== 'RSA-OAEP-256') return fail();
      return Buffer.from(await webcrypto.subtle.decrypt({ name: 'RSA-OAEP' }, pair.privateKey as import("node:crypto").webcrypto.CryptoKey, data).catch(fail));
    },
  };
}
