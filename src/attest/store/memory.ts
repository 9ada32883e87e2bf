/**
 * The single-process store: maps with per-entry expiry. Expired entries are dropped when read and by a
 * sweep that looks only at expiry, so a flood of `/auth` calls cannot evict a session that is still
 * inside its lifetime; the session count is bounded and, when full, `/auth` is refused instead.
 */
import { KbsDeniedError } from '../kbs/errors.js';
import type { AttestationStore, AuditEntry, StoredSession } from './types.js';

export interface MemoryStoreOptions {
  maxSessions?: number;
  maxAuditEntries?: number;
  now?: () => number;
}

export class MemoryStore implements AttestationStore {
  readonly kind = 'memory';
  private readonly sessions = new Map<string, StoredSession>();
  private readonly nonces = new Map<string, number>();
  private readonly log: AuditEntry[] = [];
  private readonly maxSessions: number;
  private readonly maxAudit: number;
  private readonly now: () => number;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxSessions = options.maxSessions ?? 100_000;
    this.maxAudit = options.maxAuditEntries ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  async putSession(session: StoredSession): Promise<void> {
    if (!this.sessions.has(session.id) && this.sessions.size >= this.maxSessions) {
      this.sweep();
      if (this.sessions.size >= this.maxSessions) {
        throw new KbsDeniedError('sessions_exhausted', 'too many live sessions; try again later', 401);
      }
    }
    this.sessions.set(session.id, { ...session });
  }

  async getSession(id: string): Promise<StoredSession | undefined> {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (this.now() >= s.expiresAtMs) {
      this.sessions.delete(id);
      return undefined;
    }
    return { ...s };
  }

  async burnNonce(nonce: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const until = this.nonces.get(nonce);
    if (until !== undefined && now < until) return false;
    if (this.nonces.size > this.maxSessions) this.sweep();
    this.nonces.set(nonce, now + ttlMs);
    return true;
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    this.log.push({ ...entry });
    if (this.log.length > this.maxAudit) this.log.splice(0, this.log.length - this.maxAudit);
  }

  async audit(limit?: number): Promise<AuditEntry[]> {
    return (limit === undefined ? this.log : this.log.slice(-limit)).map((e) => ({ ...e }));
  }

  async close(): Promise<void> {}

  size(): number {
    return this.sessions.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (now >= s.expiresAtMs) this.sessions.delete(id);
    for (const [n, until] of this.nonces) if (now >= until) this.nonces.delete(n);
  }
}
