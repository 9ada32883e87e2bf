/**
 * Wrapping a secret to the TEE's public key with JWE, so only the holder of the private key inside the
 * TEE can read it (the transport, proxies and logs see ciphertext only). Key management as trustee's
 * KBS and its clients use it: RSA1_5, RSA-OAEP and RSA-OAEP-256 for RSA keys (2048 bits or more);
 * ECDH-ES and ECDH-ES+A256KW for P-256, P-384 and P-521 keys. Content: A256GCM. jose 6 no longer does
 * RSA1_5, so that one JWE is assembled here (PKCS#1 v1.5 encryption of a random CEK, AES-256-GCM with
 * the protected header as AAD, RFC 7516 5.1). Keys with private parts are refused (a client mistake
 * that would leak them).
 */
import { constants, createCipheriv, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { CompactEncrypt, FlattenedEncrypt, importJWK, type FlattenedJWE, type JWK } from 'jose';
import { KbsRequestError } from './errors.js';

export const RSA_ALGS = ['RSA1_5', 'RSA-OAEP', 'RSA-OAEP-256'] as const;
export const EC_ALGS = ['ECDH-ES+A256KW', 'ECDH-ES'] as const;
export const EC_CURVES = ['P-256', 'P-384', 'P-521'] as const;

export interface WrapKey {
  alg: string;
  /** The public key material only (kty, n/e or crv/x/y). */
  jwk: JWK;
  kid?: string;
}

function keyError(message: string, path: string): KbsRequestError {
  return new KbsRequestError('tee_pubkey_invalid', `tee-pubkey: ${message}`, {
    location: { path },
    hint: 'send a public JWK: {"kty":"RSA","alg":"RSA-OAEP-256","n","e"} or {"kty":"EC","crv":"P-256","alg":"ECDH-ES+A256KW","x","y"}',
  });
}

/** Checks a TEE public key (JWK) and makes it ready for encryption. */
export async function importWrapKey(jwk: unknown, path = 'tee-pubkey'): Promise<WrapKey> {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw keyError('expected a JWK object', path);
  const k = jwk as JWK;
  if ('d' in k || 'p' in k || 'q' in k) throw keyError('the key has private parts; send only the public key', path);
  let alg: string;
  let material: JWK;
  if (k.kty === 'RSA') {
    alg = k.alg ?? 'RSA-OAEP-256';
    if (!(RSA_ALGS as readonly string[]).includes(alg)) throw keyError(`algorithm '${alg}' is not accepted for RSA (use ${RSA_ALGS.join(', ')})`, `${path}.alg`);
    if (typeof k.n !== 'string' || typeof k.e !== 'string') throw keyError('an RSA key needs n and e', path);
    if (Buffer.from(k.n, 'base64url').length < 256) throw keyError('RSA keys must have at least 2048 bits', `${path}.n`);
    material = { kty: 'RSA', n: k.n, e: k.e };
  } else if (k.kty === 'EC') {
    alg = k.alg ?? 'ECDH-ES+A256KW';
    if (!(EC_ALGS as readonly string[]).includes(alg)) throw keyError(`algorithm '${alg}' is not accepted for EC (use ${EC_ALGS.join(' or ')})`, `${path}.alg`);
    if (!(EC_CURVES as readonly string[]).includes(String(k.crv))) throw keyError(`curve '${String(k.crv)}' is not accepted (use ${EC_CURVES.join(', ')})`, `${path}.crv`);
    material = { kty: 'EC', crv: k.crv, x: k.x, y: k.y };
  } else {
    throw keyError(`key type '${String(k.kty)}' is not accepted (use RSA or EC)`, `${path}.kty`);
  }
  try {
    // Import only the key material: key_ops/use name what the TEE does with the key, which WebCrypto
    // would otherwise reject as usages for the wrapping algorithm. Importing proves the point is valid.
    if (alg === 'RSA1_5') createPublicKey({ key: material, format: 'jwk' });
    else await importJWK({ ...material, alg }, alg);
  } catch (error) {
    throw keyError(`the key does not import: ${(error as Error).message}`, path);
  }
  return { alg, jwk: material, kid: k.kid };
}

function header(to: WrapKey): { alg: string; enc: 'A256GCM'; kid?: string } {
  return to.kid === undefined ? { alg: to.alg, enc: 'A256GCM' } : { alg: to.alg, enc: 'A256GCM', kid: to.kid };
}

function rsa15Flattened(secret: Uint8Array, to: WrapKey): FlattenedJWE {
  const cek = randomBytes(32);
  const protectedB64 = Buffer.from(JSON.stringify(header(to))).toString('base64url');
  const encryptedKey = publicEncrypt({ key: createPublicKey({ key: to.jwk, format: 'jwk' }), padding: constants.RSA_PKCS1_PADDING }, cek);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', cek, iv);
  cipher.setAAD(Buffer.from(protectedB64, 'ascii'));
  const ciphertext = Buffer.concat([cipher.update(secret), cipher.final()]);
  return {
    protected: protectedB64,
    encrypted_key: encryptedKey.toString('base64url'),
    iv: iv.toString('base64url'),
    ciphertext: ciphertext.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  };
}

/** The KBS `Response` payload: flattened JWE serialisation. */
export async function wrapFlattened(secret: Uint8Array, to: WrapKey): Promise<FlattenedJWE> {
  if (to.alg === 'RSA1_5') return rsa15Flattened(secret, to);
  return new FlattenedEncrypt(secret).setProtectedHeader(header(to)).encrypt(await importJWK({ ...to.jwk, alg: to.alg }, to.alg));
}

/** Compact JWE (for the key release endpoint). */
export async function wrapCompact(secret: Uint8Array, to: WrapKey): Promise<string> {
  if (to.alg === 'RSA1_5') {
    const f = rsa15Flattened(secret, to);
    return [f.protected, f.encrypted_key, f.iv, f.ciphertext, f.tag].join('.');
  }
  return new CompactEncrypt(secret).setProtectedHeader(header(to)).encrypt(await importJWK({ ...to.jwk, alg: to.alg }, to.alg));
}
