/** SEV-SNP token claims in MAA's names (`x-ms-attestation-type: sevsnpvm`, the `x-ms-sevsnpvm-*` set). */
import type { SnpAppraisalClaims } from '../appraisal/types.js';

export function snpClaims(c: SnpAppraisalClaims): Record<string, unknown> {
  return {
    'x-ms-attestation-type': 'sevsnpvm',
    // MAA's verdict claim; we issue tokens only when our appraisal passed, which is its counterpart.
    'x-ms-compliance-status': 'azure-compliant-uvm',
    'x-ms-sevsnpvm-authorkeydigest': c.author_key_digest,
    'x-ms-sevsnpvm-bootloader-svn': c.reported_tcb.bootloader,
    'x-ms-sevsnpvm-familyId': c.family_id,
    'x-ms-sevsnpvm-guestsvn': c.guest_svn,
    'x-ms-sevsnpvm-hostdata': c.host_data,
    'x-ms-sevsnpvm-idkeydigest': c.id_key_digest,
    'x-ms-sevsnpvm-imageId': c.image_id,
    'x-ms-sevsnpvm-is-debuggable': c.policy.debug,
    'x-ms-sevsnpvm-launchmeasurement': c.measurement,
    'x-ms-sevsnpvm-microcode-svn': c.reported_tcb.microcode,
    'x-ms-sevsnpvm-migration-allowed': c.policy.migration_agent,
    'x-ms-sevsnpvm-reportdata': c.report_data,
    'x-ms-sevsnpvm-reportid': c.report_id,
    'x-ms-sevsnpvm-smt-allowed': c.policy.smt,
    'x-ms-sevsnpvm-snpfw-svn': c.reported_tcb.snp,
    'x-ms-sevsnpvm-tee-svn': c.reported_tcb.tee,
    'x-ms-sevsnpvm-vmpl': c.vmpl,
    'x-ms-sevsnpvm-chipid': c.chip_id,
    'x-confcom-sevsnpvm-guest-policy': c.policy.raw,
    'x-confcom-sevsnpvm-product': c.product,
  };
}

/** The audit log's identifying fields. */
export const snpAuditFields = (c: SnpAppraisalClaims): Record<string, unknown> => ({ measurement: c.measurement, host_data: c.host_data, debug: c.policy.debug });
