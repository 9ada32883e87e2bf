/**
 * Wrapping a secret to the TEE's public key with JWE, so only the holder of the private key inside the
 * TEE can read it (the transport, proxies and logs see ciphertext only). Key management: RSA-OAEP-256 or
 * RSA-OAEP for RSA keys, ECDH-ES+A256KW for P-256/P-384 keys; content: A256GCM. RSA1_5 is refused
 * (padding-oracle prone) and so is any key with private parts (a client mistake that would leak it).
 */
import { CompactEncrypt, FlattenedEncrypt, importJWK, type FlattenedJWE, type JWK } from 'jose';
import { KbsRequestError } from './errors.js';

const RSA_ALGS = ['RSA-OAEP-256', 'RSA-OAEP'];
const EC_CURVES = ['P-256', 'P-384'];

export interface WrapKey {
  alg: string;
  key: Awaited<ReturnType<typeof importJWK>>;
  kid?: string;
}

function keyError(message: string, path: string): KbsRequestError {
  return new KbsRequestError('tee_pubkey_invalid', `tee-pubkey: ${message}`, {
    location: { path },
    hint: 'send a public JWK: {"kty":"RSA","alg":"RSA-OAEP-256","n","e"} or {"kty":"EC","crv":"P-256","alg":"ECDH-ES+A256KW","x","y"}',
  });
}

/** Checks a TEE public key (JWK) and imports it for encryption. */
export async function importWrapKey(jwk: unknown, path = 'tee-pubkey'): Promise<WrapKey> {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw keyError('expected a JWK object', path);
  const k = jwk as JWK;
  if ('d' in k || 'p' in k || 'q' in k) throw keyError('the key has private parts; send only the public key', path);
  let alg: string;
  if (k.kty === 'RSA') {
    alg = k.alg ?? 'RSA-OAEP-256';
    if (!RSA_ALGS.includes(alg)) throw keyError(`algorithm '${alg}' is not accepted for RSA (use ${RSA_ALGS.join(' or ')})`, `${path}.alg`);
    if (typeof k.n !== 'string' || typeof k.e !== 'string') throw keyError('an RSA key needs n and e', path);
    if (Buffer.from(k.n, 'base64url').length < 256) throw keyError('RSA keys must have at least 2048 bits', `${path}.n`);
  } else if (k.kty === 'EC') {
    alg = k.alg ?? 'ECDH-ES+A256KW';
    if (alg !== 'ECDH-ES+A256KW') throw keyError(`algorithm '${alg}' is not accepted for EC (use ECDH-ES+A256KW)`, `${path}.alg`);
    if (!EC_CURVES.includes(String(k.crv))) throw keyError(`curve '${String(k.crv)}' is not accepted (use ${EC_CURVES.join(' or ')})`, `${path}.crv`);
  } else {
    throw keyError(`key type '${String(k.kty)}' is not accepted (use RSA or EC)`, `${path}.kty`);
  }
  try {
    // Import only the key material: key_ops/use name what the TEE does with the key (e.g. "encrypt"
    // for an ECDH key), which WebCrypto would otherwise reject as usages for the wrapping algorithm.
    const material: JWK = { kty: k.kty, alg, ...(k.kty === 'RSA' ? { n: k.n, e: k.e } : { crv: k.crv, x: k.x, y: k.y }) };
    return { alg, key: await importJWK(material, alg), kid: k.kid };
  } catch (error) {
    throw keyError(`the key does not import: ${(error as Error).message}`, path);
  }
}

/** The KBS `Response` payload: flattened JWE serialisation. */
export async function wrapFlattened(secret: Uint8Array, to: WrapKey): Promise<FlattenedJWE> {
  return new FlattenedEncrypt(secret).setProtectedHeader({ alg: to.alg, enc: 'A256GCM' }).encrypt(to.key);
}

/** Compact JWE (for the key release endpoint). */
export async function wrapCompact(secret: Uint8Array, to: WrapKey): Promise<string> {
  const header: { alg: string; enc: 'A256GCM'; kid?: string } = { alg: to.alg, enc: 'A256GCM' };
  if (to.kid !== undefined) header.kid = to.kid;
  return new CompactEncrypt(secret).setProtectedHeader(header).encrypt(to.key);
}
