/**
 * Secure key release in Key Vault / managed HSM's form (`POST /keys/{name}/{version}/release` with
 * `{"target": <attestation token>, "enc"?, "nonce"?}` -> `{"value": <JWS>}`). The JWS payload carries
 * the key wrapped for the token's runtime key as `response.key.key.key_hsm` = base64url(JSON
 * {"schema_version": "1.0", "header": {"kid", "alg": "dir", "enc"}, "ciphertext"}). The wrap is
 * CKM_RSA_AES_KEY_WRAP (PKCS #11): a fresh AES-256 key encrypted with RSA-OAEP to the runtime key,
 * followed by the target key under AES key wrap with padding (RFC 5649). `enc` picks the OAEP hash
 * (OAEP and MGF1 alike): CKM_RSA_AES_KEY_WRAP = SHA-1, RSA_AES_KEY_WRAP_256 = SHA-256,
 * RSA_AES_KEY_WRAP_384 = SHA-384. That is what the confidential sidecar's SKR code does when it unwraps
 * `key_hsm` (microsoft/confidential-sidecar-containers pkg/skr/akv.go, rsaAESKeyUnwrap): it reads the
 * algorithm from the signed payload's `request.enc` and picks the hash by it. Both sides use this one
 * module: the service wraps with rsaAesKeyWrap, the guest unwraps with rsaAesKeyUnwrap.
 */
import { constants, createCipheriv, createDecipheriv, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import { AzureError } from './cloud-error.js';

export const KEY_WRAP_ALGORITHMS = { CKM_RSA_AES_KEY_WRAP: 'sha1', RSA_AES_KEY_WRAP_256: 'sha256', RSA_AES_KEY_WRAP_384: 'sha384' } as const;
export type KeyWrapAlgorithm = keyof typeof KEY_WRAP_ALGORITHMS;

export function keyWrapAlgorithm(enc: unknown): KeyWrapAlgorithm {
  if (enc === undefined) return 'CKM_RSA_AES_KEY_WRAP';
  if (typeof enc === 'string' && Object.prototype.hasOwnProperty.call(KEY_WRAP_ALGORITHMS, enc)) return enc as KeyWrapAlgorithm;
  throw new AzureError(400, 'BadParameter', `enc: '${String(enc).slice(0, 32)}' is not one of ${Object.keys(KEY_WRAP_ALGORITHMS).join(', ')}`);
}

/** RFC 5649's alternative initial value (AES key wrap with padding). */
const KWP_AIV = Buffer.from('A65959A6', 'hex');

/** CKM_RSA_AES_KEY_WRAP of `target` to an RSA public JWK. */
export function rsaAesKeyWrap(target: Uint8Array, rsaJwk: JWK, alg: KeyWrapAlgorithm): Buffer {
  const aesKey = randomBytes(32);
  const wrappedKey = publicEncrypt({ key: createPublicKey({ key: rsaJwk, format: 'jwk' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: KEY_WRAP_ALGORITHMS[alg] }, aesKey);
  const cipher = createCipheriv('id-aes256-wrap-pad', aesKey, KWP_AIV);
  return Buffer.concat([wrappedKey, cipher.update(target), cipher.final()]);
}

/** RSA-OAEP decryption with the holder's private key (which stays with the caller) and the given hash. */
export type OaepDecrypt = (data: Buffer, oaepHash: (typeof KEY_WRAP_ALGORITHMS)[KeyWrapAlgorithm]) => Promise<Buffer>;

/**
 * The inverse of rsaAesKeyWrap: the first `modulusBytes` of `ciphertext` are the OAEP-encrypted AES key,
 * the rest the target key under AES-KWP. Throws on any integrity failure (RFC 5649 checks the AIV,
 * length and padding).
 */
export async function rsaAesKeyUnwrap(ciphertext: Buffer, alg: KeyWrapAlgorithm, modulusBytes: number, decrypt: OaepDecrypt): Promise<Buffer> {
  if (ciphertext.length <= modulusBytes + 8) throw new RangeError('the wrapped key is too short');
  const aesKey = await decrypt(ciphertext.subarray(0, modulusBytes), KEY_WRAP_ALGORITHMS[alg]);
  const decipher = createDecipheriv(`id-aes${aesKey.length * 8}-wrap-pad`, aesKey, KWP_AIV);
  return Buffer.concat([decipher.update(ciphertext.subarray(modulusBytes)), decipher.final()]);
}

/** The runtime key to wrap to: `x-ms-runtime.keys[]` (by kid when given, else the first RSA key that may encrypt). */
export function runtimeWrapKey(claims: Record<string, unknown>, kid?: string): JWK {
  const runtime = claims['x-ms-runtime'];
  const keys = typeof runtime === 'object' && runtime !== null && Array.isArray((runtime as { keys?: unknown }).keys) ? ((runtime as { keys: unknown[] }).keys as JWK[]) : [];
  const key = keys.find((k) => typeof k === 'object' && k !== null && k.kty === 'RSA' && (kid === undefined || k.kid === kid) && (!Array.isArray(k.key_ops) || k.key_ops.includes('encrypt') || k.key_ops.includes('wrapKey')));
  if (!key || typeof key.n !== 'string' || typeof key.e !== 'string') {
    throw new AzureError(403, 'Forbidden', "the token's x-ms-runtime holds no RSA key to wrap the released key to", 'AccessDenied');
  }
  if (Buffer.from(key.n, 'base64url').length < 256) throw new AzureError(403, 'Forbidden', 'the runtime RSA key is shorter than 2048 bits', 'AccessDenied');
  return { kty: 'RSA', n: key.n, e: key.e, kid: key.kid };
}

export interface ReleasedKey {
  /** The Key Vault key id, https://<vault>/keys/<name>/<version>. */
  kid: string;
  value: Uint8Array;
  wrapTo: JWK;
  enc: KeyWrapAlgorithm;
  /** The release policy as text (Key Vault returns it with the key). */
  policyText: string;
}

/** The JWS payload Key Vault signs for a release. */
export function releasePayload(k: ReleasedKey, nowSeconds: number): Record<string, unknown> {
  const keyHsm = {
    schema_version: '1.0',
    header: { kid: k.wrapTo.kid ?? 'runtime-key', alg: 'dir', enc: k.enc },
    ciphertext: rsaAesKeyWrap(k.value, k.wrapTo, k.enc).toString('base64url'),
  };
  return {
    request: { 'api-version': '7.4', enc: k.enc, kid: k.kid },
    response: {
      key: {
        key: { kid: k.kid, kty: 'oct-HSM', key_ops: ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'], key_hsm: Buffer.from(JSON.stringify(keyHsm)).toString('base64url') },
        attributes: { enabled: true, exportable: true, created: nowSeconds, updated: nowSeconds, recoveryLevel: 'Recoverable' },
        release_policy: { contentType: 'application/json; charset=utf-8', data: Buffer.from(k.policyText).toString('base64url') },
      },
    },
  };
}
