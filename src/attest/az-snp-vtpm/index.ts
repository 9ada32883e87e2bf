/** The Azure vTPM kind (`az-snp-vtpm`) for the TEE registry: JSON with hcl_report + tpm_quote. */
import { EvidenceFormatError } from '../claims.js';
import type { TeeModule } from '../registry.js';
import { normalizeSnp } from '../snp/normalize.js';
import { snp } from '../snp/index.js';
import type { AzSnpVtpmAppraisalClaims, AzSnpVtpmClaims } from './claims.js';
import { azVtpmAuditFields, azVtpmClaims } from './token.js';
import { readAzVtpmEvidence, verifyAzSnpVtpm } from './verify.js';

function parse(bytes: Buffer): Record<string, unknown> {
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) return doc as Record<string, unknown>;
  } catch {
    // fall through to the typed error
  }
  throw new EvidenceFormatError('evidence_malformed', 'Azure vTPM evidence must be a JSON object with hcl_report and tpm_quote');
}

export const azSnpVtpm: TeeModule<AzSnpVtpmClaims, AzSnpVtpmAppraisalClaims> = {
  name: 'az-snp-vtpm',
  aliases: ['azsnpvtpm'],
  what: 'Azure SEV-SNP vTPM evidence',
  sniff: () => false,
  fromJson: (doc) => (doc.hcl_report !== undefined && doc.tpm_quote !== undefined ? { bytes: Buffer.from(JSON.stringify(doc)), options: {} } : undefined),
  verify: (bytes, options) => verifyAzSnpVtpm(readAzVtpmEvidence(parse(bytes)), options),
  normalize: (c) => ({
    tee: 'az-snp-vtpm',
    simulated: c.simulated,
    report_data: c.reportData,
    nonce: c.nonce,
    pcrs: c.pcrs,
    vm_configuration: c.runtimeData['vm-configuration'] ?? null,
    user_data: c.runtimeData['user-data'] ?? null,
    snp: normalizeSnp(c.snp),
    tcb_status: snp.tcbStatus(c.snp)[0],
  }),
  summary: (c) => [
    `verified: Azure vTPM evidence (HCL report + TPM quote)${c.simulated ? ' (SIMULATED)' : ''}`,
    `  nonce         ${c.nonce}`,
    `  pcrs          ${Object.keys(c.pcrs).length} SHA-256 PCRs quoted`,
    ...snp.summary(c.snp).map((l) => `  ${l}`),
  ],
  tcbStatus: (c) => snp.tcbStatus(c.snp),
  tokenClaims: azVtpmClaims,
  auditFields: azVtpmAuditFields,
};
