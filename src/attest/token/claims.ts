/**
 * Token claims with the names Microsoft Azure Attestation uses, so that relying parties (and release
 * policies) written for Azure read our tokens unchanged. Each TEE module names its own claims
 * (src/attest/<kind>/token.ts: `x-ms-sevsnpvm-*` for SEV-SNP, `x-ms-sgx-*` for SGX, ...). The
 * runtime data whose hash the TEE bound into REPORT_DATA goes in `x-ms-runtime` (when it is JSON) and,
 * for SGX, also as raw bytes in `x-ms-sgx-ehd` (base64url), as Azure does. confcom's own additions use the
 * `x-confcom-` prefix; `x-confcom-simulated` is always present so a token from the software TEE can
 * never pass for one from hardware.
 */
import type { Appraisal } from '../appraisal/types.js';
import { teeOfAppraisal, type RuntimeDataInput } from '../registry.js';

export type { RuntimeDataInput } from '../registry.js';

/** The claims of a token for an allowed appraisal. */
export function tokenClaims(appraisal: Appraisal, runtime: RuntimeDataInput | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const claims = teeOfAppraisal(appraisal.claims).tokenClaims(appraisal.claims, runtime);
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
