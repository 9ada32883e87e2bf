/**
 * Canonical JSON as the Confidential Containers attestation service hashes structured runtime data:
 * object keys sorted, no whitespace, strings escaped as JSON.stringify does. (serde_json's default
 * map is ordered by key, so `{"nonce","tee-pubkey"}` serialises the same way on both sides.)
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonical JSON has no form for NaN or Infinity');
    if (value === undefined) throw new TypeError('canonical JSON has no form for undefined');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}
