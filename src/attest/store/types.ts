/**
 * What the attestation service keeps between requests, behind one interface so that one process
 * (memory) and several replicas (Redis) behave the same:
 *
 * - sessions: a KBS session from `/auth` until its own expiry; each record carries its expiry and is
 *   dropped only when that passes (never because another client called `/auth`);
 * - nonces: burnt once, atomically, across every replica sharing the store;
 * - the release audit log: one entry per released secret (never the secret, never a token).
 */

export interface StoredSession {
  id: string;
  nonce: string;
  tee: string;
  createdAtMs: number;
  /** The session (and its cookie) is void from this instant. */
  expiresAtMs: number;
  /** After a successful attestation: the token and the TEE key it names. */
  token?: string;
  teePubkey?: Record<string, unknown>;
}

export interface AuditEntry {
  atMs: number;
  /** repository/type/tag, or the Azure key name/version. */
  resource: string;
  endpoint: string;
  /** The releasing token's jti (not the token). */
  jti?: string;
  tee?: string;
  simulated?: boolean;
  /** Which service instance released it. */
  replica: string;
}

export interface AttestationStore {
  /** memory | redis, for logs and /health. */
  readonly kind: string;
  putSession(session: StoredSession): Promise<void>;
  getSession(id: string): Promise<StoredSession | undefined>;
  /** True exactly once per nonce for as long as `ttlMs` (every later call, on any replica: false). */
  burnNonce(nonce: string, ttlMs: number): Promise<boolean>;
  appendAudit(entry: AuditEntry): Promise<void>;
  /** The audit log, oldest first (at most `limit` newest entries when given). */
  audit(limit?: number): Promise<AuditEntry[]>;
  close(): Promise<void>;
}
