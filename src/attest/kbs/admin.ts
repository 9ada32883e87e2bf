/**
 * Trustee's admin authentication: each admin request carries `Authorization: Bearer <JWT>` signed with
 * the admin's Ed25519 private key (alg EdDSA); the service holds only the public key (PEM). The JWT
 * must verify and carry `exp` (trustee's kbs-client sets `iat` and `exp`). Without a configured key every
 * admin request is refused: the admin API is off, never open.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { jwtVerify } from 'jose';
import { InputError } from '../../core/errors.js';
import { KbsDeniedError } from './errors.js';

export function loadAdminPublicKey(pem: string, file?: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new InputError('admin_key_invalid', `admin key: not a PEM public key: ${(error as Error).message}`, { location: { file }, hint: 'give the Ed25519 public key (openssl pkey -pubout)' });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new InputError('admin_key_invalid', `admin key: expected an Ed25519 key, got ${String(key.asymmetricKeyType)}`, { location: { file } });
  }
  return key;
}

function denied(message: string): KbsDeniedError {
  return new KbsDeniedError('admin_denied', `admin access denied: ${message}`, 401, { hint: 'sign an EdDSA JWT with {iat, exp} using the admin private key' });
}

/** Checks an admin request's bearer JWT; throws AdminAuth (401) on any failure. */
export async function checkAdmin(key: KeyObject | undefined, bearer: string | undefined, nowSeconds: number): Promise<void> {
  if (!key) throw denied('the admin API is disabled (start the service with --admin-key)');
  if (bearer === undefined) throw denied('no Authorization: Bearer token');
  try {
    await jwtVerify(bearer, key, { algorithms: ['EdDSA', 'Ed25519'], requiredClaims: ['exp'], currentDate: new Date(nowSeconds * 1000) });
  } catch (error) {
    throw denied(`the admin token does not verify (${(error as Error).name})`);
  }
}
