/** SGX claims (camelCase) to the appraisal's snake_case view. */
import type { SgxClaims } from '../claims.js';
import type { SgxAppraisalClaims } from '../appraisal/types.js';

export function normalizeSgx(c: SgxClaims): SgxAppraisalClaims {
  return {
    tee: 'sgx',
    simulated: c.simulated,
    quote_version: c.quoteVersion,
    mrenclave: c.mrenclave,
    mrsigner: c.mrsigner,
    isvprodid: c.isvProdId,
    isvsvn: c.isvSvn,
    report_data: c.reportData,
    debug: c.debug,
    attributes: c.attributes,
    fmspc: c.fmspc,
    tcb_status: c.tcbStatus,
    advisory_ids: c.advisoryIds,
    qe_tcb_status: c.qeTcbStatus,
  };
}
