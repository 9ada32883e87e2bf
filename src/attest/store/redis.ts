/**
 * The store shared by several replicas, in Redis (ioredis): a session is a key with the session's own
 * expiry (PX), a burnt nonce is `SET NX PX` (atomic, so exactly one replica wins), and the audit log is
 * a list (RPUSH, trimmed to a bound). Keys live under a prefix so one Redis can hold several services.
 * Connection failures surface as errors (the service answers 500 and releases nothing): fail closed.
 */
import { Redis } from 'ioredis';
import { InputError } from '../../core/errors.js';
import type { AttestationStore, AuditEntry, StoredSession } from './types.js';

export interface RedisStoreOptions {
  url: string;
  prefix?: string;
  maxAuditEntries?: number;
  now?: () => number;
}

export class RedisStore implements AttestationStore {
  readonly kind = 'redis';
  private readonly prefix: string;
  private readonly maxAudit: number;
  private readonly now: () => number;

  private constructor(
    private readonly redis: Redis,
    options: RedisStoreOptions,
  ) {
    this.prefix = options.prefix ?? 'confcom:attest:';
    this.maxAudit = options.maxAuditEntries ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  /** Connects (and checks the connection with PING) before the service starts listening. */
  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    if (!/^rediss?:\/\//.test(options.url)) {
      throw new InputError('store_url_invalid', `store '${options.url.slice(0, 64)}' is not a redis:// URL`, { hint: 'use --store memory or --store redis://HOST:PORT' });
    }
    const redis = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true });
    // Connection errors reach the caller through the failing command; without a listener ioredis would
    // print them (with the URL) as unhandled events.
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      redis.disconnect();
      throw new InputError('store_unreachable', `cannot reach Redis at ${redactUrl(options.url)}: ${(error as Error).message}`, {
        hint: 'start redis-server or point --store at a reachable one',
      });
    }
    return new RedisStore(redis, options);
  }

  async putSession(session: StoredSession): Promise<void> {
    const ttl = Math.max(1, Math.ceil(session.expiresAtMs - this.now()));
    await this.redis.set(`${this.prefix}session:${session.id}`, JSON.stringify(session), 'PX', ttl);
  }

  async getSession(id: string): Promise<StoredSession | undefined> {
    const raw = await this.redis.get(`${this.prefix}session:${id}`);
    if (raw === null) return undefined;
    const s = JSON.parse(raw) as StoredSession;
    // Redis expires by its own clock; the record's expiry is checked too (an injected clock in tests).
    return this.now() >= s.expiresAtMs ? undefined : s;
  }

  async burnNonce(nonce: string, ttlMs: number): Promise<boolean> {
    const ok = await this.redis.set(`${this.prefix}nonce:${nonce}`, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    return ok === 'OK';
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    const key = `${this.prefix}audit`;
    await this.redis.multi().rpush(key, JSON.stringify(entry)).ltrim(key, -this.maxAudit, -1).exec();
  }

  async audit(limit?: number): Promise<AuditEntry[]> {
    const rows = await this.redis.lrange(`${this.prefix}audit`, limit === undefined ? 0 : -limit, -1);
    return rows.map((r) => JSON.parse(r) as AuditEntry);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** The URL without a password (it may be in a log or an error). */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
