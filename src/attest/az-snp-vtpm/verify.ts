/**
 * Azure vTPM evidence (trustee's `az-snp-vtpm`): the SNP report inside the HCL report verifies to
 * AMD's roots; REPORT_DATA starts with the hash of the HCL runtime data, which carries the vTPM's
 * attestation key (JWK `HCLAkPub`); that key signs a TPM2 quote whose PCR digest matches the PCR
 * values sent and whose extraData is the caller's nonce. Any mismatch is refused.
 */
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { AttestationError, EvidenceFormatError } from '../claims.js';
import { strictHex } from '../certs/hex.js';
import type { TeeVerifyOptions } from '../registry.js';
import { verifySnp } from '../snp/verify.js';
import { HASH_TYPES, REPORT_TYPE_SNP, TPM_ALG_SHA256, parseHclReport, parseTpmsAttest } from './abi.js';
import type { AzSnpVtpmClaims } from './claims.js';

export interface AzVtpmEvidence {
  hclReport: Buffer;
  tpmQuote: { message: Buffer; signature: Buffer; pcrs: Buffer[] };
  vcek?: Buffer;
  /** More of the SNP chain (ASK/ARK, PEM or base64 DER): confcom's addition for hosts whose ARK is not pinned. */
  certs?: Buffer[];
}

function field(doc: Record<string, unknown>, name: string): unknown {
  if (doc[name] === undefined) throw new EvidenceFormatError('evidence_malformed', `vTPM evidence lacks "${name}"`, { location: { path: name } });
  return doc[name];
}

function b64(value: unknown, path: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) throw new EvidenceFormatError('evidence_malformed', `${path} must be base64`, { location: { path } });
  return Buffer.from(value, /[-_]/.test(value) ? 'base64url' : 'base64');
}

function hex(value: unknown, path: string): Buffer {
  const bytes = typeof value === 'string' ? strictHex(value) : undefined;
  if (!bytes) throw new EvidenceFormatError('evidence_malformed', `${path} must be hex`, { location: { path } });
  return bytes;
}

function certList(value: unknown): Buffer[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new EvidenceFormatError('evidence_malformed', 'certs must be a list of certificates', { location: { path: 'certs' } });
  return value.map((c, i) => (typeof c === 'string' && c.includes('-----BEGIN') ? Buffer.from(c, 'utf8') : b64(c, `certs[${i}]`)));
}

/** The JSON form trustee's az-snp-vtpm attester sends: {version, hcl_report, tpm_quote{message, signature, pcrs}, vcek}. */
export function readAzVtpmEvidence(doc: Record<string, unknown>): AzVtpmEvidence {
  const quote = field(doc, 'tpm_quote') as Record<string, unknown>;
  if (typeof quote !== 'object' || quote === null) throw new EvidenceFormatError('evidence_malformed', 'tpm_quote must be an object', { location: { path: 'tpm_quote' } });
  const pcrs = field(quote, 'pcrs');
  if (!Array.isArray(pcrs)) throw new EvidenceFormatError('evidence_malformed', 'tpm_quote.pcrs must be a list', { location: { path: 'tpm_quote.pcrs' } });
  return {
    hclReport: b64(field(doc, 'hcl_report'), 'hcl_report'),
    tpmQuote: {
      message: hex(field(quote, 'message'), 'tpm_quote.message'),
      signature: hex(field(quote, 'signature'), 'tpm_quote.signature'),
      pcrs: pcrs.map((p, i) => hex(p, `tpm_quote.pcrs[${i}]`)),
    },
    vcek: doc.vcek === undefined ? undefined : b64(doc.vcek, 'vcek'),
    certs: certList(doc.certs),
  };
}

function refuse(code: string, message: string, path: string): AttestationError {
  return new AttestationError(code, message, { location: { path } });
}

/** The attestation key from the runtime data: the RSA JWK with kid HCLAkPub. */
function attestationKey(runtime: Record<string, unknown>): KeyObject {
  const keys = Array.isArray(runtime.keys) ? (runtime.keys as Record<string, unknown>[]) : [];
  const jwk = keys.find((k) => k && k.kid === 'HCLAkPub');
  if (!jwk || jwk.kty !== 'RSA' || typeof jwk.n !== 'string' || typeof jwk.e !== 'string') {
    throw refuse('vtpm_ak_missing', 'the HCL runtime data carries no RSA key HCLAkPub', 'hcl_report.runtime_data.keys');
  }
  try {
    return createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' });
  } catch (error) {
    throw refuse('vtpm_ak_missing', `HCLAkPub is not a usable RSA key: ${(error as Error).message}`, 'hcl_report.runtime_data.keys');
  }
}

export function verifyAzSnpVtpm(evidence: AzVtpmEvidence, options: TeeVerifyOptions): AzSnpVtpmClaims {
  const hcl = parseHclReport(evidence.hclReport);
  if (hcl.reportType !== REPORT_TYPE_SNP) throw refuse('vtpm_report_type', `HCL report type ${hcl.reportType} is not SEV-SNP (2)`, 'hcl_report.report_type');
  const hash = HASH_TYPES[hcl.hashType];
  if (!hash) throw refuse('vtpm_report_type', `HCL runtime data hash type ${hcl.hashType} is unknown`, 'hcl_report.hash_type');
  const snp = verifySnp(hcl.snpReport, { ...options, certs: [...(evidence.vcek ? [evidence.vcek] : []), ...(evidence.certs ?? []), ...(options.certs ?? [])] });

  // REPORT_DATA[0..n] = H(runtime data): the SNP report vouches for the runtime data, and so for the AK.
  const digest = createHash(hash).update(hcl.runtimeData).digest();
  if (!Buffer.from(snp.reportData, 'hex').subarray(0, digest.length).equals(digest)) {
    throw refuse('vtpm_runtime_data_mismatch', `REPORT_DATA does not start with the ${hash} of the HCL runtime data`, 'hcl_report.runtime_data');
  }
  let runtime: Record<string, unknown>;
  try {
    runtime = JSON.parse(hcl.runtimeData.toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw refuse('vtpm_runtime_data_mismatch', `HCL runtime data is not JSON: ${(error as Error).message}`, 'hcl_report.runtime_data');
  }
  const ak = attestationKey(runtime);

  const { message, signature, pcrs } = evidence.tpmQuote;
  if (!cryptoVerify('sha256', message, ak, signature)) {
    throw refuse('vtpm_quote_signature_invalid', 'the TPM quote is not signed by the attestation key of the HCL runtime data', 'tpm_quote.signature');
  }
  const quote = parseTpmsAttest(message);
  const bank = quote.selections.find((s) => s.hash === TPM_ALG_SHA256);
  if (quote.selections.length !== 1 || !bank) throw refuse('vtpm_pcr_mismatch', 'the TPM quote must select exactly the SHA-256 PCR bank', 'tpm_quote.message.pcrSelect');
  if (bank.pcrs.some((p) => p >= pcrs.length) || pcrs.some((p) => p.length !== 32)) {
    throw refuse('vtpm_pcr_mismatch', `the TPM quote selects PCRs ${bank.pcrs.join(',')} but ${pcrs.length} SHA-256 values were sent`, 'tpm_quote.pcrs');
  }
  const pcrDigest = createHash('sha256').update(Buffer.concat(bank.pcrs.map((p) => pcrs[p]))).digest();
  if (!pcrDigest.equals(quote.pcrDigest)) throw refuse('vtpm_pcr_mismatch', 'the PCR values sent do not hash to the quoted PCR digest', 'tpm_quote.pcrs');
  if (quote.extraData.length > 64) throw refuse('vtpm_nonce_invalid', 'the TPM quote extraData is longer than 64 bytes', 'tpm_quote.message.extraData');

  return {
    tee: 'az-snp-vtpm',
    simulated: snp.simulated,
    // The caller's binding is the TPM quote's extraData (zero-padded to REPORT_DATA's 64 bytes).
    reportData: Buffer.concat([quote.extraData, Buffer.alloc(64 - quote.extraData.length)]).toString('hex'),
    nonce: quote.extraData.toString('hex'),
    pcrs: Object.fromEntries(bank.pcrs.map((p) => [String(p), pcrs[p].toString('hex')])),
    runtimeData: runtime,
    snp,
  };
}
