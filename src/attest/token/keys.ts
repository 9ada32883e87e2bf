/**
 * The service's token signing keys: one current key signs, earlier keys stay published in the JWKS
 * until every token they signed has expired, then are dropped. Rotation happens lazily when the
 * current key is older than `rotateAfterMs` (or on demand), so no timer is needed and tests can drive
 * it with an injected clock.
 */
import { createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { exportJWK, generateKeyPair, calculateJwkThumbprint, importPKCS8, importSPKI, type CryptoKey, type JWK } from 'jose';

export type SigningAlgorithm = 'ES256' | 'RS256';
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['ES256', 'RS256'];

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** Public JWK as published (kid, alg, use: sig). */
  publicJwk: JWK;
  createdAtMs: number;
  /** When the key stopped signing; undefined while current. */
  retiredAtMs?: number;
}

export interface KeyRingOptions {
  alg?: SigningAlgorithm;
  /** Rotate when the current key is older than this (default 24 h). */
  rotateAfterMs?: number;
  /** Keep a retired key published this long (at least the token lifetime; default 24 h). */
  retainAfterRetireMs?: number;
  now?: () => number;
}

async function newKey(alg: SigningAlgorithm, nowMs: number): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'RS256' ? { modulusLength: 3072 } : {});
  const jwk = await exportJWK(publicKey);
  // The kid is the RFC 7638 thumbprint plus a random suffix, so two keys never share one.
  const kid = `${await calculateJwkThumbprint(jwk)}.${randomUUID().slice(0, 8)}`;
  return { kid, alg, privateKey, publicKey, publicJwk: { ...jwk, kid, alg, use: 'sig' }, createdAtMs: nowMs };
}

export class SigningKeyRing {
  private readonly keys: SigningKey[] = [];

  private constructor(
    readonly alg: SigningAlgorithm,
    private readonly rotateAfterMs: number,
    private readonly retainAfterRetireMs: number,
    private readonly now: () => number,
  ) {}

  static async create(options: KeyRingOptions = {}): Promise<SigningKeyRing> {
    const ring = new SigningKeyRing(
      options.alg ?? 'ES256',
      options.rotateAfterMs ?? 24 * 3600_000,
      options.retainAfterRetireMs ?? 24 * 3600_000,
      options.now ?? Date.now,
    );
    ring.keys.push(await newKey(ring.alg, ring.now()));
    return ring;
  }

  /**
   * A ring holding one given private key (PKCS #8 PEM: P-256 for ES256, RSA for RS256) that never
   * rotates: replicas started with the same mounted key sign and verify each other's tokens, with the
   * same kid (the RFC 7638 thumbprint). Rotate by rolling out a new key.
   */
  static async fromPrivateKeyPem(pem: string, now: () => number = Date.now): Promise<SigningKeyRing> {
    const publicPem = createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
    const type = (createPublicKey(pem) as KeyObject).asymmetricKeyType;
    if (type !== 'ec' && type !== 'rsa') throw new TypeError(`a signing key must be EC P-256 or RSA, not ${String(type)}`);
    const alg: SigningAlgorithm = type === 'ec' ? 'ES256' : 'RS256';
    const privateKey = await importPKCS8(pem, alg);
    const publicKey = await importSPKI(publicPem, alg, { extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    const ring = new SigningKeyRing(alg, Number.POSITIVE_INFINITY, 24 * 3600_000, now);
    ring.keys.push({ kid, alg, privateKey, publicKey, publicJwk: { ...jwk, kid, alg, use: 'sig' }, createdAtMs: now() });
    return ring;
  }

  /** The key that signs now (rotating first when it is due). */
  async signingKey(): Promise<SigningKey> {
    const current = this.keys[this.keys.length - 1]!;
    if (this.now() - current.createdAtMs >= this.rotateAfterMs) return this.rotate();
    return current;
  }

  /** Retires the current key and makes a new one current. */
  async rotate(): Promise<SigningKey> {
    const nowMs = this.now();
    const fresh = await newKey(this.alg, nowMs);
    this.keys[this.keys.length - 1]!.retiredAtMs = nowMs;
    this.keys.push(fresh);
    this.prune();
    return fresh;
  }

  /** A key that may still verify tokens (current, or retired within the retention window). */
  find(kid: string): SigningKey | undefined {
    this.prune();
    return this.keys.find((k) => k.kid === kid);
  }

  /** The JSON Web Key Set to publish: every key that may still verify a live token. */
  jwks(): { keys: JWK[] } {
    this.prune();
    return { keys: this.keys.map((k) => ({ ...k.publicJwk })) };
  }

  private prune(): void {
    const nowMs = this.now();
    for (let i = this.keys.length - 2; i >= 0; i--) {
      const retired = this.keys[i]!.retiredAtMs;
      if (retired !== undefined && nowMs - retired > this.retainAfterRetireMs) this.keys.splice(i, 1);
    }
  }
}
