/**
 * How the KBS protocol binds evidence to its challenge: the TEE puts
 * H(canonical JSON of {"nonce": <challenge nonce>, "tee-pubkey": <JWK>}) into REPORT_DATA, H being
 * SHA-384 (the trustee default) or SHA-256, zero-padded to 64 bytes. Checking it proves the evidence was
 * made for this challenge and this key, so neither can be swapped by someone replaying the report.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

export type BindingHash = 'sha384' | 'sha256';

/** The runtime data object the KBS protocol hashes. */
export function kbsRuntimeData(nonce: string, teePubkey: unknown): Record<string, unknown> {
  return { nonce, 'tee-pubkey': teePubkey };
}

/** The 64 bytes of REPORT_DATA a TEE must produce for this nonce and key. */
export function expectedReportData(nonce: string, teePubkey: unknown, hash: BindingHash = 'sha384'): Buffer {
  const digest = createHash(hash).update(canonicalJson(kbsRuntimeData(nonce, teePubkey)), 'utf8').digest();
  const out = Buffer.alloc(64);
  digest.copy(out);
  return out;
}

/** Which hash binds REPORT_DATA to the nonce and key, or undefined when neither does. */
export function matchBinding(reportData: Uint8Array, nonce: string, teePubkey: unknown): BindingHash | undefined {
  if (reportData.length !== 64) return undefined;
  for (const hash of ['sha384', 'sha256'] as const) {
    if (timingSafeEqual(expectedReportData(nonce, teePubkey, hash), reportData)) return hash;
  }
  return undefined;
}
