/**
 * The KBS attestation protocol as trustee speaks it (kbs/docs/kbs_attestation_protocol.md, protocol
 * version 0.4.0): request and attestation payload shapes, the TEE names of kbs.yaml, and the runtime
 * data the primary evidence binds. Trustee's KBS hands the attestation service
 *   {"tee-pubkey": <JWK>, "nonce": <challenge nonce>, "additional-evidence": <string>}
 * as structured runtime data; the service hashes its JCS (RFC 8785) form with SHA-384 (SHA-512 for IBM
 * SE) and compares it with REPORT_DATA (zero-padded to the field's 64 bytes).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { KbsDeniedError } from './errors.js';

/** Trustee accepts exactly this version (semver `=0.4.0`). */
export const KBS_PROTOCOL_VERSION = '0.4.0';

/** The TEE names of trustee's kbs-types, and which of our verifiers (if any) checks each. */
export const KBS_TEES = {
  snp: 'snp',
  sgx: 'sgx',
  'az-snp-vtpm': 'az-snp-vtpm',
  tdx: 'tdx',
  'az-tdx-vtpm': undefined,
  cca: undefined,
  csv: undefined,
  se: undefined,
  tpm: undefined,
  sample: undefined,
} as const;
export type KbsTee = keyof typeof KBS_TEES;

export interface KbsAttestation {
  nonce: string;
  teePubkey: Record<string, unknown>;
  primaryEvidence: unknown;
  /** The JSON string trustee's clients send (empty when there is none). */
  additionalEvidence: string;
  initData?: { format: string; body: string };
}

/** Refusals of the protocol: all are attestation errors (401 AttestationError) in trustee's terms. */
export function attestationError(code: string, message: string, hint?: string): KbsDeniedError {
  return new KbsDeniedError(code, message, 401, hint === undefined ? {} : { hint });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks a `Request` (POST /kbs/v0/auth) and returns its TEE. */
export function parseKbsRequest(body: unknown): KbsTee {
  if (!isObject(body)) throw attestationError('request_invalid', 'deserialize Request: expected a JSON object');
  const version = body.version;
  if (typeof version !== 'string' || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw attestationError('kbs_version_unsupported', `failed to parse KBS version '${String(version).slice(0, 16)}'`, `send "version": "${KBS_PROTOCOL_VERSION}"`);
  }
  if (version !== KBS_PROTOCOL_VERSION) {
    throw attestationError(
      'kbs_version_unsupported',
      `KBS Client Protocol Version Mismatch: expect =${KBS_PROTOCOL_VERSION} while the request is ${version}`,
      `send "version": "${KBS_PROTOCOL_VERSION}"`,
    );
  }
  const tee = body.tee;
  if (typeof tee !== 'string' || !Object.prototype.hasOwnProperty.call(KBS_TEES, tee)) {
    throw attestationError('tee_unsupported', `deserialize Request: unknown TEE '${String(tee).slice(0, 32)}'`, `use one of ${Object.keys(KBS_TEES).join(', ')}`);
  }
  const extra = body['extra-params'];
  const metaTee = isObject(extra) && isObject(extra['tee-metadata']) && isObject(extra['tee-metadata'].primary_tee) ? extra['tee-metadata'].primary_tee.tee : undefined;
  if (metaTee !== undefined && metaTee !== tee) {
    throw attestationError('tee_metadata_mismatch', `tee-metadata.primary_tee.tee '${String(metaTee).slice(0, 32)}' is not the request's tee '${tee}'`);
  }
  return tee as KbsTee;
}

/** Checks an `Attestation` (POST /kbs/v0/attest). */
export function parseKbsAttestation(body: unknown): KbsAttestation {
  if (!isObject(body)) throw attestationError('request_invalid', 'deserialize Attestation: expected a JSON object');
  const runtime = body['runtime-data'];
  if (!isObject(runtime)) throw attestationError('request_invalid', 'deserialize Attestation: missing field `runtime-data`');
  if (typeof runtime.nonce !== 'string') throw attestationError('request_invalid', 'deserialize Attestation: runtime-data.nonce must be a string');
  if (!isObject(runtime['tee-pubkey'])) throw attestationError('request_invalid', 'deserialize Attestation: runtime-data.tee-pubkey must be a JWK object');
  const evidence = body['tee-evidence'];
  if (!isObject(evidence) || evidence.primary_evidence === undefined) {
    throw attestationError('request_invalid', 'deserialize Attestation: tee-evidence needs primary_evidence and additional_evidence');
  }
  const additional = evidence.additional_evidence ?? '';
  if (typeof additional !== 'string') throw attestationError('request_invalid', 'deserialize Attestation: tee-evidence.additional_evidence must be a JSON string');
  const out: KbsAttestation = { nonce: runtime.nonce, teePubkey: runtime['tee-pubkey'], primaryEvidence: evidence.primary_evidence, additionalEvidence: additional };
  const init = body['init-data'];
  if (init !== undefined && init !== null) {
    if (!isObject(init) || typeof init.format !== 'string' || typeof init.body !== 'string') {
      throw attestationError('request_invalid', 'deserialize Attestation: init-data must be {"format", "body"} strings');
    }
    out.initData = { format: init.format, body: init.body };
  }
  return out;
}

/** The runtime data the primary evidence binds, as trustee's KBS builds it. */
export function primaryRuntimeData(a: Pick<KbsAttestation, 'nonce' | 'teePubkey' | 'additionalEvidence'>): Record<string, unknown> {
  return { 'tee-pubkey': a.teePubkey, nonce: a.nonce, 'additional-evidence': a.additionalEvidence };
}

/** REPORT_DATA for structured runtime data: H(JCS(runtime)) zero-padded to 64 bytes. */
export function structuredReportData(runtime: unknown, tee: string): Buffer {
  const digest = createHash(tee === 'se' ? 'sha512' : 'sha384').update(canonicalJson(runtime), 'utf8').digest();
  const out = Buffer.alloc(64);
  digest.copy(out);
  return out;
}
