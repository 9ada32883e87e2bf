/**
 * Evidence as it arrives over HTTP (JSON) turned into the verifier's inputs, then verified.
 *
 *   SEV-SNP: {"report": <base64 of the 1184-byte report>, "certs": [<PEM text or base64 DER>, ...]}
 *            (VCEK or VLEK first, then ASK/ARK; optional when the service has them)
 *   SGX:     {"quote": <base64 of the DCAP quote>, "collateral": {<as in `attest verify`>}}
 *   other registered kinds: their own JSON form, e.g. az-snp-vtpm {"hcl_report", "tpm_quote", "vcek"}
 *
 * Any failure to decode or verify is a denial: the verifier's AttestationError passes through (it is a
 * CheckFailedError), bad encodings are KbsRequestErrors naming the field.
 */
import { KbsRequestError } from '../kbs/errors.js';
import type { EvidenceClaims } from '../claims.js';
import { verifyWithFreshCollateral, type CollateralSources } from '../collateral/index.js';
import { verifyEvidenceAs } from '../verify.js';
import { findTee, teeModules, type TeeName, type TeeVerifyOptions } from '../registry.js';

export type TeeKind = TeeName;

/** The KBS protocol's TEE names (and ours) to the verifier's: any registered kind's name or alias. */
export function teeKind(name: unknown): TeeKind {
  const module = typeof name === 'string' ? findTee(name) : undefined;
  if (module) return module.name as TeeKind;
  const names = teeModules().map((m) => [m.name, ...m.aliases].join('/'));
  throw new KbsRequestError('tee_unsupported', `TEE '${String(name).slice(0, 32)}' is not supported`, { hint: `use one of: ${names.join(', ')}` });
}

function bytes(value: unknown, path: string): Buffer {
  if (typeof value !== 'string' || value === '' || !/^[A-Za-z0-9+/_=-]+$/.test(value)) {
    throw new KbsRequestError('evidence_invalid', `${path}: expected base64`, { location: { path } });
  }
  return Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
}

/** Certificates as PEM text or base64 DER; the verifier takes either as bytes. */
function certList(value: unknown, path: string): Buffer[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new KbsRequestError('evidence_invalid', `${path}: expected a list of certificates`, { location: { path } });
  return value.map((c, i) => (typeof c === 'string' && c.includes('-----BEGIN') ? Buffer.from(c, 'utf8') : bytes(c, `${path}[${i}]`)));
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new KbsRequestError('evidence_invalid', `${path}: expected a JSON object`, { location: { path } });
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new KbsRequestError('evidence_invalid', `${path}: expected a JSON object`, { location: { path } });
  }
  return value as Record<string, unknown>;
}

export interface VerifyEvidenceOptions {
  trustSimulator: boolean;
  /** Verification time (default: now). */
  at?: Date;
  /**
   * Where collateral the evidence lacks is fetched (Intel PCS/PCCS for SGX, AMD KDS for a VCEK), through
   * a cache. Without it, evidence must carry its collateral (or the verifier's pinned roots suffice).
   */
  collateral?: CollateralSources;
}

/** Verifies raw evidence with the collateral it carries, fetching what it lacks when sources are configured. */
function verifyRaw(kind: TeeKind, raw: Buffer, verify: TeeVerifyOptions, sources: CollateralSources | undefined): Promise<EvidenceClaims> {
  if (sources) return verifyWithFreshCollateral(raw, sources, verify);
  return verifyEvidenceAs(kind, raw, verify);
}

/** Decodes and verifies evidence of the given TEE; returns the verifier's claims. */
export async function verifyWireEvidence(tee: TeeKind, evidence: unknown, path: string, options: VerifyEvidenceOptions): Promise<EvidenceClaims> {
  const ev = object(evidence, path);
  const base = { trustSimulator: options.trustSimulator, at: options.at };
  if (tee === 'snp') {
    const report = bytes(ev.report, `${path}.report`);
    return verifyRaw(tee, report, { ...base, certs: certList(ev.certs, `${path}.certs`) }, options.collateral);
  }
  // Other registered kinds take their own JSON form (e.g. az-snp-vtpm: {hcl_report, tpm_quote, vcek}).
  if (tee !== 'sgx') return verifyEvidenceAs(tee, Buffer.from(JSON.stringify(ev)), { trustSimulator: options.trustSimulator, at: options.at });
  const quote = bytes(ev.quote, `${path}.quote`);
  const collateral = ev.collateral === undefined ? undefined : object(ev.collateral, `${path}.collateral`);
  return verifyRaw(tee, quote, { ...base, collateral }, options.collateral);
}
