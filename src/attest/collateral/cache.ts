/**
 * A cache of fetched collateral: each entry keeps its value and the time it stops being valid (TCB
 * info / QE identity nextUpdate, CRL nextUpdate, certificate notAfter). A lookup refetches once the
 * entry is within `refreshBefore` of that time; when the source is down, a still-valid entry is
 * served (the outage is logged by the caller through `onError`), and only an expired one fails.
 * Entries can be mirrored to a directory so a restart does not need the source either.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export interface Fetched {
  /** The collateral as text (JSON, PEM, hex), stored verbatim: signatures cover the exact text. */
  value: string;
  /** When it stops being valid. */
  expires: Date;
}

export interface CollateralCacheOptions {
  /** Refetch this long before expiry (default 24 h). */
  refreshBeforeMs?: number;
  /** Directory mirroring the entries (optional). */
  dir?: string;
  /** The clock (default Date.now); the service passes its own. */
  now?: () => number;
  /** Told when a refresh failed and a cached entry was served instead. */
  onError?: (key: string, error: unknown) => void;
}

const DAY = 86_400_000;

export class CollateralCache {
  private readonly entries = new Map<string, Fetched>();
  private readonly inflight = new Map<string, Promise<Fetched>>();
  private readonly refreshBeforeMs: number;
  private readonly now: () => number;

  constructor(private readonly options: CollateralCacheOptions = {}) {
    this.refreshBeforeMs = options.refreshBeforeMs ?? DAY;
    this.now = options.now ?? Date.now;
  }

  /** The cached value for `key`, fetched (again) when missing or near expiry. */
  async get(key: string, fetch: () => Promise<Fetched>): Promise<string> {
    const entry = this.entries.get(key) ?? (await this.load(key));
    const now = this.now();
    if (entry && now < entry.expires.getTime() - this.refreshBeforeMs) return entry.value;
    try {
      const fresh = await this.fetchOnce(key, fetch);
      return fresh.value;
    } catch (error) {
      if (entry && now < entry.expires.getTime()) {
        this.options.onError?.(key, error);
        return entry.value;
      }
      throw error;
    }
  }

  /** The expiry of the cached entry (tests, metrics). */
  expiry(key: string): Date | undefined {
    return this.entries.get(key)?.expires;
  }

  private fetchOnce(key: string, fetch: () => Promise<Fetched>): Promise<Fetched> {
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = fetch()
        .then(async (fresh) => {
          this.entries.set(key, fresh);
          await this.save(key, fresh);
          return fresh;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private file(key: string): string | undefined {
    return this.options.dir === undefined ? undefined : join(this.options.dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
  }

  private async load(key: string): Promise<Fetched | undefined> {
    const file = this.file(key);
    if (!file) return undefined;
    try {
      const doc = JSON.parse(await readFile(file, 'utf8')) as { key: string; value: string; expires: string };
      if (doc.key !== key || typeof doc.value !== 'string') return undefined;
      const entry = { value: doc.value, expires: new Date(doc.expires) };
      this.entries.set(key, entry);
      return entry;
    } catch {
      return undefined;
    }
  }

  private async save(key: string, entry: Fetched): Promise<void> {
    const file = this.file(key);
    if (!file || this.options.dir === undefined) return;
    await mkdir(this.options.dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ key, value: entry.value, expires: entry.expires.toISOString() }));
    await rename(tmp, file);
  }
}
