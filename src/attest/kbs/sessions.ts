/**
 * KBS sessions: `/auth` opens one with a fresh random nonce; `/attest` consumes the nonce exactly once
 * (a second attestation with the same session, or after expiry, is refused), and on success the
 * session holds the token until it expires. Sessions are bounded in number so a flood of `/auth`
 * calls cannot exhaust memory: the oldest unattested sessions go first.
 */
import { randomBytes } from 'node:crypto';

export interface KbsSession {
  id: string;
  nonce: string;
  tee: string;
  createdAtMs: number;
  /** The nonce may be used (attested against) only while this is false. */
  nonceUsed: boolean;
  /** After a successful attestation: the token and the TEE public key. */
  token?: string;
  teePubkey?: Record<string, unknown>;
  tokenExpiresAtMs?: number;
}

export interface SessionStoreOptions {
  /** How long a nonce may be answered (default 5 min). */
  nonceTtlMs?: number;
  maxSessions?: number;
  now?: () => number;
}

export type NonceCheck = { ok: true; session: KbsSession } | { ok: false; reason: 'unknown_session' | 'nonce_expired' | 'nonce_replayed' };

export class SessionStore {
  private readonly sessions = new Map<string, KbsSession>();
  private readonly nonceTtlMs: number;
  private readonly maxSessions: number;
  private readonly now: () => number;

  constructor(options: SessionStoreOptions = {}) {
    this.nonceTtlMs = options.nonceTtlMs ?? 5 * 60_000;
    this.maxSessions = options.maxSessions ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  open(tee: string): KbsSession {
    this.sweep();
    while (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
    const session: KbsSession = {
      id: randomBytes(24).toString('base64url'),
      nonce: randomBytes(32).toString('base64'),
      tee,
      createdAtMs: this.now(),
      nonceUsed: false,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** Marks the session's nonce used; reports why it cannot be used. The nonce is burnt even when the
   * attestation then fails, so every challenge gets exactly one answer. */
  consumeNonce(id: string | undefined): NonceCheck {
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (!session) return { ok: false, reason: 'unknown_session' };
    if (session.nonceUsed) return { ok: false, reason: 'nonce_replayed' };
    session.nonceUsed = true;
    if (this.now() - session.createdAtMs > this.nonceTtlMs) return { ok: false, reason: 'nonce_expired' };
    return { ok: true, session };
  }

  /** A session with a live token, or undefined. */
  authenticated(id: string | undefined): KbsSession | undefined {
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (!session?.token || session.tokenExpiresAtMs === undefined) return undefined;
    if (this.now() >= session.tokenExpiresAtMs) {
      this.sessions.delete(session.id);
      return undefined;
    }
    return session;
  }

  size(): number {
    return this.sessions.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) {
      const tokenDead = s.tokenExpiresAtMs === undefined || now >= s.tokenExpiresAtMs;
      const nonceDead = s.nonceUsed || now - s.createdAtMs > this.nonceTtlMs;
      if (tokenDead && nonceDead) this.sessions.delete(id);
    }
  }
}
