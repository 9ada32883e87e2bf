/**
 * Token claims with the names Microsoft Azure Attestation uses, so that relying parties (and release
 * policies) written for Azure read our tokens unchanged. SEV-SNP: `x-ms-attestation-type: sevsnpvm`
 * and the `x-ms-sevsnpvm-*` set; SGX: `x-ms-attestation-type: sgx` and the `x-ms-sgx-*` set. The
 * runtime data whose hash the TEE bound into REPORT_DATA goes in `x-ms-runtime` (when it is JSON) and,
 * for SGX, also as raw bytes in `x-ms-sgx-ehd` (base64url), as Azure does. confcom's own additions use the
 * `x-confcom-` prefix; `x-confcom-simulated` is always present so a token from the software TEE can
 * never pass for one from hardware.
 */
import type { Appraisal, SgxAppraisalClaims, SnpAppraisalClaims } from '../appraisal/types.js';

export interface RuntimeDataInput {
  /** The exact bytes whose SHA-256 is in REPORT_DATA. */
  bytes: Uint8Array;
  /** Parsed JSON when the data type was JSON. */
  json?: unknown;
}

function snpClaims(c: SnpAppraisalClaims): Record<string, unknown> {
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

function sgxClaims(c: SgxAppraisalClaims, runtime: RuntimeDataInput | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {
    'x-ms-attestation-type': 'sgx',
    'x-ms-sgx-is-debuggable': c.debug,
    'x-ms-sgx-mrenclave': c.mrenclave,
    'x-ms-sgx-mrsigner': c.mrsigner,
    'x-ms-sgx-product-id': c.isvprodid,
    'x-ms-sgx-svn': c.isvsvn,
    'x-ms-sgx-report-data': c.report_data,
  };
  if (c.config_id !== undefined) out['x-ms-sgx-config-id'] = c.config_id;
  if (c.config_svn !== undefined) out['x-ms-sgx-config-svn'] = c.config_svn;
  if (c.isv_ext_prod_id !== undefined) out['x-ms-sgx-isv-extended-product-id'] = c.isv_ext_prod_id;
  if (c.isv_family_id !== undefined) out['x-ms-sgx-isv-family-id'] = c.isv_family_id;
  if (runtime) out['x-ms-sgx-ehd'] = Buffer.from(runtime.bytes).toString('base64url');
  out['x-confcom-sgx-advisory-ids'] = c.advisory_ids;
  return out;
}

/** The claims of a token for an allowed appraisal. */
export function tokenClaims(appraisal: Appraisal, runtime: RuntimeDataInput | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const claims = appraisal.claims.tee === 'snp' ? snpClaims(appraisal.claims) : sgxClaims(appraisal.claims, runtime);
  const out: Record<string, unknown> = {
    'x-ms-ver': '1.0',
    ...claims,
    'x-ms-policy-hash': Buffer.from(appraisal.policy.sha256, 'hex').toString('base64url'),
    'x-confcom-simulated': appraisal.simulated,
    'x-confcom-appraisal-policy': appraisal.policy.name,
  };
  if (appraisal.claims.tcb_status !== undefined) out['x-confcom-tcb-status'] = appraisal.claims.tcb_status;
  if (runtime?.json !== undefined) out['x-ms-runtime'] = runtime.json;
  return { ...out, ...extra };
}
