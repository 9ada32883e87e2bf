/**
 * The SEV-SNP kind for the TEE registry: a raw 1184-byte ATTESTATION_REPORT (or its hex text), or
 * JSON with the report and certificates as Azure (THIM/IMDS) or the host serve them.
 */
import { EvidenceFormatError, type SnpClaims } from '../claims.js';
import type { SnpAppraisalClaims } from '../appraisal/types.js';
import { strictHex } from '../certs/hex.js';
import type { TeeModule } from '../registry.js';
import { REPORT_SIZE } from './abi.js';
import { snpClaims, snpAuditFields } from './token.js';
import { normalizeSnp } from './normalize.js';
import { verifySnp } from './verify.js';

const SNP_VERSIONS = [2, 3, 5];

/**
 * Raw bytes, or hex text of them (how virtee and some hosts store reports). Text that is hex-like but
 * not exactly one report (odd digits, trailing garbage) is refused rather than truncated.
 */
export function snpReportBytes(data: Buffer): Buffer {
  if (data.length < 2 * REPORT_SIZE) return data;
  const text = data.toString('latin1');
  if (!/^[0-9a-fA-F]{64}/.test(text)) return data;
  const bytes = strictHex(text);
  if (!bytes) {
    throw new EvidenceFormatError('evidence_malformed', 'SEV-SNP report hex text holds characters other than hex digits and whitespace, or an odd number of digits', {
      hint: 'pass the report as raw bytes or as exactly its hex text',
    });
  }
  return bytes;
}

function pemList(value: unknown): Buffer[] {
  if (typeof value === 'string' && value.includes('-----BEGIN')) return [Buffer.from(value, 'utf8')];
  if (Array.isArray(value)) return value.flatMap(pemList);
  return [];
}

const REPORT_FIELDS = ['report', 'snpReport', 'SnpReport', 'attestationReport'];

export const snp: TeeModule<SnpClaims, SnpAppraisalClaims> = {
  name: 'snp',
  aliases: ['amd-sev-snp', 'sevsnp', 'sevsnpvm'],
  what: 'SEV-SNP report',
  sniff: (bytes) => bytes.length >= 4 && (SNP_VERSIONS.includes(bytes.readUInt32LE(0)) || Math.abs(bytes.length - REPORT_SIZE) < 64),
  fromJson(doc, decode) {
    const field = REPORT_FIELDS.find((k) => doc[k] !== undefined);
    if (!field) return undefined;
    const nested = [doc, doc.vcek, doc.certificates, doc.thim].filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v));
    const certs = nested.flatMap((o) => [...pemList(o.vcekCert), ...pemList(o.certificateChain), ...pemList(o.certs)]);
    return { bytes: decode(doc[field], field), options: { certs } };
  },
  verify: (bytes, options) => verifySnp(snpReportBytes(bytes), options),
  normalize: normalizeSnp,
  summary(claims) {
    const sim = claims.simulated ? ' (SIMULATED)' : '';
    const t = claims.reportedTcb;
    return [
      `verified: SEV-SNP report v${claims.version} from ${claims.product}, signed by ${claims.signingKey.toUpperCase()}${sim}`,
      `  measurement   ${claims.measurement}`,
      `  report_data   ${claims.reportData}`,
      `  host_data     ${claims.hostData}`,
      `  reported_tcb  bootloader ${t.bootloader}, tee ${t.tee}, snp ${t.snp}, microcode ${t.microcode}${t.fmc === undefined ? '' : `, fmc ${t.fmc}`}`,
      `  policy        0x${claims.policy.raw} (debug ${claims.policy.debug ? 'allowed' : 'off'}), vmpl ${claims.vmpl}`,
    ];
  },
  // AMD issues a VCEK per REPORTED_TCB and revokes through the CRL: a verified chain is the whole status.
  tcbStatus: () => ['UpToDate'],
  tokenClaims: (c) => snpClaims(c),
  auditFields: snpAuditFields,
};
