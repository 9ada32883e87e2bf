/**
 * Signing and verifying attestation tokens (JWT). Verification checks, in order: the compact form,
 * the header algorithm against the ring's, the key id against the ring (a key we never had, or one
 * dropped after rotation, is unknown), the signature, then issuer and time claims. Every failure is a
 * TokenError with a stable code.
 */
import { SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { TokenError } from './errors.js';
import type { SigningKeyRing } from './keys.js';

export interface IssueOptions {
  /** The service's issuer URL (`iss`), also the base of the `jku` header. */
  issuer: string;
  ttlSeconds: number;
  /** Seconds since the epoch (default: now). */
  nowSeconds?: number;
}

export async function issueToken(ring: SigningKeyRing, claims: Record<string, unknown>, options: IssueOptions): Promise<string> {
  const key = await ring.signingKey();
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  // The KBS protocol's registered claims include `jwk`: the public key that verifies this token.
  return new SignJWT({ ...claims, jwk: key.publicJwk } as JWTPayload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', jku: `${options.issuer.replace(/\/$/, '')}/certs` })
    .setIssuer(options.issuer)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + options.ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
}

export interface VerifyTokenOptions {
  issuer: string;
  /** Seconds since the epoch (default: now). */
  nowSeconds?: number;
  /** Allowed clock skew in seconds (default 0). */
  clockToleranceSeconds?: number;
}

export async function verifyToken(ring: SigningKeyRing, token: string, options: VerifyTokenOptions): Promise<JWTPayload> {
  if (typeof token !== 'string' || token.split('.').length !== 3) {
    throw new TokenError('token_malformed', 'the token is not a compact JWS (header.payload.signature)');
  }
  let kid: string | undefined;
  let alg: string | undefined;
  try {
    const header = decodeProtectedHeader(token);
    kid = header.kid;
    alg = header.alg;
  } catch {
    throw new TokenError('token_malformed', 'the token header is not valid base64url JSON');
  }
  if (alg !== ring.alg) throw new TokenError('token_bad_algorithm', `token algorithm '${String(alg)}' is not the service's ${ring.alg}`);
  const key = kid === undefined ? undefined : ring.find(kid);
  if (!key) throw new TokenError('token_unknown_key', 'the token was not signed by a current or recently retired service key');
  try {
    const { payload } = await jwtVerify(token, key.publicKey, {
      algorithms: [ring.alg],
      issuer: options.issuer,
      currentDate: options.nowSeconds === undefined ? undefined : new Date(options.nowSeconds * 1000),
      clockTolerance: options.clockToleranceSeconds ?? 0,
      requiredClaims: ['exp', 'iat', 'nbf', 'iss'],
    });
    return payload;
  } catch (error) {
    throw mapJoseError(error);
  }
}

function mapJoseError(error: unknown): TokenError {
  if (error instanceof joseErrors.JWTExpired) return new TokenError('token_expired', 'the token has expired');
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return new TokenError('token_bad_signature', 'the token signature does not verify');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return new TokenError('token_bad_issuer', 'the token was issued by another service');
    if (error.claim === 'nbf' || error.claim === 'iat') return new TokenError('token_not_yet_valid', 'the token is not valid yet');
    return new TokenError('token_malformed', `the token claim '${error.claim}' is invalid`);
  }
  return new TokenError('token_malformed', 'the token cannot be decoded');
}
