/**
 * Entry points: recognise the form evidence arrives in (raw bytes, hex text, JSON wrappers) and hand
 * it to the TEE module that owns it (src/attest/registry.ts). The work is in each module's folder;
 * this file only decodes and routes. `verifySnpReport` / `verifySgxQuote` stay for callers that
 * already know the kind.
 */
import { createHash } from 'node:crypto';
import { AttestationError, EvidenceFormatError, type EvidenceClaims, type SgxClaims, type SnpClaims } from './claims.js';
import { looksHex, strictHex } from './certs/hex.js';
import { findTee, sniffTee, teeModules, teeOf, type TeeModule, type TeeVerifyOptions } from './registry.js';
import { sgx } from './sgx/index.js';
import { snp } from './snp/index.js';

export type VerifyOptions = TeeVerifyOptions;

export async function verifySnpReport(report: Buffer, options: VerifyOptions = {}): Promise<SnpClaims> {
  return snp.verify(report, options);
}

export async function verifySgxQuote(quote: Buffer, options: VerifyOptions = {}): Promise<SgxClaims> {
  return sgx.verify(quote, options);
}

function kindsList(): string {
  return teeModules()
    .map((m) => m.what)
    .join(', ');
}

function malformed(message: string, path?: string): EvidenceFormatError {
  return new EvidenceFormatError('evidence_unrecognized', message, {
    location: path ? { path } : undefined,
    hint: `pass one of: ${kindsList()} (raw, hex, or JSON such as {"report", "vcekCert"/"certificateChain"/"certs"} or {"quote", "collateral"})`,
  });
}

/** Base64 or hex text of bytes (strict: no trailing garbage, no odd digit). */
function decodeBytes(value: unknown, path: string): Buffer {
  if (typeof value !== 'string' || value.length === 0) throw malformed(`${path} must be a base64 or hex string`, path);
  const text = value.trim();
  const hex = looksHex(text) ? strictHex(text) : undefined;
  if (hex) return hex;
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    const encoding = /[-_]/.test(text) ? 'base64url' : 'base64';
    const bytes = Buffer.from(text, encoding);
    // Node skips what it cannot decode; only the canonical text of the bytes is accepted.
    if (bytes.toString(encoding).replace(/=+$/, '') === text.replace(/=+$/, '')) return bytes;
  }
  throw malformed(`${path} is neither base64 nor hex`, path);
}

/** Options the document supplies, overridden by the caller's (and certificates from both). */
function merge(fromDoc: TeeVerifyOptions, options: TeeVerifyOptions): TeeVerifyOptions {
  return { ...fromDoc, ...options, collateral: options.collateral ?? fromDoc.collateral, certs: [...(fromDoc.certs ?? []), ...(options.certs ?? [])] };
}

async function verifyJsonEvidence(doc: Record<string, unknown>, options: VerifyOptions): Promise<EvidenceClaims> {
  for (const module of teeModules()) {
    const found = module.fromJson(doc, decodeBytes);
    if (found) return (await module.verify(found.bytes, merge(found.options, options))) as EvidenceClaims;
  }
  throw malformed(`JSON evidence is none of: ${kindsList()}`);
}

function parseJson(evidence: Buffer): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(evidence.toString('utf8'));
  } catch (error) {
    throw malformed(`evidence looks like JSON but does not parse: ${(error as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw malformed('JSON evidence must be an object');
  return doc as Record<string, unknown>;
}

/** Verifies evidence of any registered kind, recognising its form. */
export async function verifyEvidence(evidence: Buffer, options: VerifyOptions = {}): Promise<EvidenceClaims> {
  const head = evidence.subarray(0, 64).toString('latin1').trimStart();
  if (head.startsWith('{')) return verifyJsonEvidence(parseJson(evidence), options);
  let bytes = evidence;
  let size = `${evidence.length} bytes`;
  if (looksHex(evidence.subarray(0, 256).toString('latin1'))) {
    const decoded = strictHex(evidence.toString('latin1'));
    if (!decoded) throw malformed('evidence starts as hex text but holds other characters or an odd number of digits');
    bytes = decoded;
    size = `${evidence.length} characters of hex text (${decoded.length} bytes)`;
  }
  const module = sniffTee(bytes);
  if (!module) throw malformed(`evidence of ${size} is none of: ${kindsList()}`);
  return (await module.verify(bytes, options)) as EvidenceClaims;
}

/** Verifies evidence the caller says is of TEE `name` (a registry name or alias, e.g. KBS `amd-sev-snp`). */
export async function verifyEvidenceAs(name: string, evidence: Buffer, options: VerifyOptions = {}): Promise<EvidenceClaims> {
  const module = findTee(name);
  if (!module) throw malformed(`TEE '${name.slice(0, 32)}' is not supported`);
  return (await module.verify(evidence, options)) as EvidenceClaims;
}

/** The module behind verified claims: its summary lines and TCB status. */
export function describeClaims(claims: EvidenceClaims): { module: TeeModule; summary: string[]; tcbStatus: string[] } {
  const module = teeOf(claims);
  return { module, summary: module.summary(claims), tcbStatus: module.tcbStatus(claims) };
}

/** How REPORT_DATA can bind runtime data: a hash of it (zero-padded to 64 bytes), or the data itself. */
const BINDINGS = ['sha256', 'sha384', 'sha512', 'raw'] as const;
export type RuntimeDataBinding = (typeof BINDINGS)[number];

function expectedReportData(binding: RuntimeDataBinding, data: Buffer): Buffer | undefined {
  const value = binding === 'raw' ? data : createHash(binding).update(data).digest();
  if (value.length > 64) return undefined;
  return Buffer.concat([value, Buffer.alloc(64 - value.length)]);
}

/**
 * Checks that the claims' REPORT_DATA binds `data` (SHA-256/384/512 of it, zero-padded, or the bytes
 * themselves). Returns the binding that matched; throws `report_data_mismatch` when none does.
 */
export function checkRuntimeData(claims: EvidenceClaims, data: Buffer, bindings: readonly RuntimeDataBinding[] = BINDINGS): RuntimeDataBinding {
  const reportData = Buffer.from(claims.reportData, 'hex');
  for (const binding of bindings) {
    const expected = expectedReportData(binding, data);
    if (expected && expected.equals(reportData)) return binding;
  }
  throw new AttestationError('report_data_mismatch', `REPORT_DATA does not bind the runtime data (tried ${bindings.join(', ')} of ${data.length} bytes)`, {
    location: { path: 'report_data' },
    hint: 'the evidence was produced for other runtime data (nonce or key); produce fresh evidence',
  });
}
