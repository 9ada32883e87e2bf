/**
 * SGX token claims in MAA's names (`x-ms-attestation-type: sgx`, the `x-ms-sgx-*` set); the runtime
 * data also goes raw in `x-ms-sgx-ehd` (base64url), as Azure does.
 */
import type { SgxAppraisalClaims } from '../appraisal/types.js';
import type { RuntimeDataInput } from '../registry.js';

export function sgxClaims(c: SgxAppraisalClaims, runtime: RuntimeDataInput | undefined): Record<string, unknown> {
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

/** The audit log's identifying fields. */
export const sgxAuditFields = (c: SgxAppraisalClaims): Record<string, unknown> => ({ mrenclave: c.mrenclave, mrsigner: c.mrsigner, debug: c.debug });
