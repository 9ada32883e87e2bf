/**
 * Entry points: verify SEV-SNP reports and SGX quotes into claims, and recognise the forms evidence
 * arrives in (raw report, hex text, Azure's report + THIM/IMDS VCEK JSON, SGX quote, JSON wrappers).
 * The work is in snp/verify.ts and sgx/verify.ts; this file only routes and decodes.
 */
import { EvidenceFormatError, type EvidenceClaims, type SgxClaims, type SnpClaims } from './claims.js';
import { REPORT_SIZE } from './snp/abi.js';
import { verifySnp } from './snp/verify.js';
import { verifySgx } from './sgx/verify.js';

export interface VerifyOptions {
  /** The time at which certificates and collateral must be valid (default: now). */
  at?: Date;
  /** Certificates handed in with the evidence (VCEK/VLEK, ASK; DER or PEM). Roots among them are never trusted. */
  certs?: Buffer[];
  /** SGX collateral: an object, JSON text or Buffer in the dcap-qvl / PCCS form (see sgx/collateral.ts). */
  collateral?: unknown;
  /** CRLs (DER, PEM or hex of DER). SEV-SNP: AMD's ARK-signed CRL. SGX CRLs come in the collateral. */
  crls?: Buffer[];
  /** Accept evidence signed by the software TEE (tests and local mode only); claims then say simulated. */
  trustSimulator?: boolean;
}

const HEX = /^[0-9a-fA-F\s]+$/;

/** Raw bytes, or hex text of them (how virtee and some hosts store reports). */
function unhex(data: Buffer): Buffer {
  if (data.length >= 2 * REPORT_SIZE && data.length < 2 * REPORT_SIZE + 8) {
    const text = data.toString('latin1');
    if (HEX.test(text)) return Buffer.from(text.replace(/\s+/g, ''), 'hex');
  }
  return data;
}

export async function verifySnpReport(report: Buffer, options: VerifyOptions = {}): Promise<SnpClaims> {
  return verifySnp(unhex(report), options);
}

export async function verifySgxQuote(quote: Buffer, options: VerifyOptions = {}): Promise<SgxClaims> {
  return verifySgx(quote, options);
}

function malformed(message: string, path?: string): EvidenceFormatError {
  return new EvidenceFormatError('evidence_unrecognized', message, {
    location: path ? { path } : undefined,
    hint: 'pass a raw SEV-SNP report (1184 bytes or hex), an SGX quote, or JSON with "report" + "vcekCert"/"certificateChain"/"certs" or "quote" + "collateral"',
  });
}

/** Base64 or hex text of bytes. */
function decodeBytes(value: unknown, path: string): Buffer {
  if (typeof value !== 'string' || value.length === 0) throw malformed(`${path} must be a base64 or hex string`, path);
  const text = value.trim();
  if (HEX.test(text) && text.length % 2 === 0) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_=-]+$/.test(text)) return Buffer.from(text, /[-_]/.test(text) ? 'base64url' : 'base64');
  throw malformed(`${path} is neither base64 nor hex`, path);
}

function pemList(value: unknown): Buffer[] {
  if (typeof value === 'string' && value.includes('-----BEGIN')) return [Buffer.from(value, 'utf8')];
  if (Array.isArray(value)) return value.flatMap(pemList);
  return [];
}

/**
 * JSON evidence. SEV-SNP: {"report", and certificates as Azure serves them ("vcekCert" +
 * "certificateChain", THIM/IMDS), or "certs": [PEM...], possibly nested under "vcek"/"certificates"}.
 * SGX: {"quote", "collateral"}.
 */
async function verifyJsonEvidence(doc: Record<string, unknown>, options: VerifyOptions): Promise<EvidenceClaims> {
  const reportField = ['report', 'snpReport', 'SnpReport', 'attestationReport'].find((k) => doc[k] !== undefined);
  if (reportField) {
    const nested = [doc, doc.vcek, doc.certificates, doc.thim].filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v));
    const certs = nested.flatMap((o) => [...pemList(o.vcekCert), ...pemList(o.certificateChain), ...pemList(o.certs)]);
    return verifySnpReport(decodeBytes(doc[reportField], reportField), { ...options, certs: [...certs, ...(options.certs ?? [])] });
  }
  if (doc.quote !== undefined) {
    return verifySgxQuote(decodeBytes(doc.quote, 'quote'), { ...options, collateral: options.collateral ?? doc.collateral });
  }
  throw malformed('JSON evidence has neither "report" nor "quote"');
}

export async function verifyEvidence(evidence: Buffer, options: VerifyOptions = {}): Promise<EvidenceClaims> {
  const head = evidence.subarray(0, 64).toString('latin1').trimStart();
  if (head.startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(evidence.toString('utf8'));
    } catch (error) {
      throw malformed(`evidence looks like JSON but does not parse: ${(error as Error).message}`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw malformed('JSON evidence must be an object');
    return verifyJsonEvidence(doc as Record<string, unknown>, options);
  }
  const bytes = HEX.test(evidence.subarray(0, 256).toString('latin1')) ? Buffer.from(evidence.toString('latin1').replace(/\s+/g, ''), 'hex') : evidence;
  if (bytes.length >= 4) {
    const quoteVersion = bytes.readUInt16LE(0);
    const keyType = bytes.readUInt16LE(2);
    if ((quoteVersion === 3 || quoteVersion === 4) && keyType === 2) return verifySgxQuote(bytes, options);
    const snpVersion = bytes.readUInt32LE(0);
    if ([2, 3, 5].includes(snpVersion) || Math.abs(bytes.length - REPORT_SIZE) < 64) return verifySnpReport(bytes, options);
  }
  throw malformed(`evidence of ${evidence.length} bytes is neither an SEV-SNP report nor an SGX quote`);
}
