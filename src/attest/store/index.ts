/** The attestation service's session, nonce and audit store: `memory` (one process) or `redis://HOST:PORT` (replicas). */
import { MemoryStore } from './memory.js';
import { RedisStore } from './redis.js';
import type { AttestationStore } from './types.js';

export * from './types.js';
export { MemoryStore } from './memory.js';
export { RedisStore, redactUrl } from './redis.js';

/** The store a `--store` value names. */
export async function openStore(spec: string, options: { now?: () => number; prefix?: string } = {}): Promise<AttestationStore> {
  if (spec === 'memory') return new MemoryStore({ now: options.now });
  return RedisStore.connect({ url: spec, now: options.now, prefix: options.prefix });
}
