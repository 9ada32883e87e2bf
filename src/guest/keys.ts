/**
 * The guest's ephemeral key pair. The private key is a non-extractable WebCrypto key: it exists only
 * inside this process and cannot be exported, logged or serialised; only the public JWK is sent. A new
 * pair is made for each attestation, as the KBS protocol asks ("valid until the next challenge").
 */
import { exportJWK, flattenedDecrypt, generateKeyPair, type FlattenedJWE, type JWK } from 'jose';
import { KeyObject, constants, privateDecrypt } from 'node:crypto';
import { GuestFlowError } from './errors.js';

export type EphemeralAlg = 'ECDH-ES+A256KW' | 'RSA-OAEP-256';

export interface EphemeralKey {
  readonly publicJwk: JWK;
  decryptFlattened(jwe: FlattenedJWE): Promise<Buffer>;
  /** RSA-OAEP decryption of raw bytes with the named hash, for Key Vault's key_hsm unwrap (RSA keys only). */
  decryptRsaOaep(data: Buffer, oaepHash: 'sha1' | 'sha256' | 'sha384'): Promise<Buffer>;
  /** The RSA modulus length in bytes (0 for EC keys). */
  readonly modulusBytes: number;
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
    modulusBytes: alg === 'RSA-OAEP-256' ? Buffer.from(String(exported.n), 'base64url').length : 0,
    decryptRsaOaep: async (data, oaepHash) => {
      if (alg !== 'RSA-OAEP-256') return fail();
      // WebCrypto binds one OAEP hash to a key; Key Vault's hash follows `enc`, so the handle (never
      // exported, never leaving this closure) is used through node:crypto with the hash asked for.
      try {
        return privateDecrypt({ key: KeyObject.from(pair.privateKey as unknown as import('node:crypto').webcrypto.CryptoKey), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, data);
      } catch {
        return fail();
      }
    },
  };
}
