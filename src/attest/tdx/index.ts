/** The TDX kind for the TEE registry: an ECDSA DCAP quote v4/v5 with TEE type TDX, and its collateral. */
import type { TeeModule } from '../registry.js';
import { ATT_KEY_TYPE_ECDSA_P256 } from '../sgx/abi.js';
import { TEE_TYPE_TDX } from './abi.js';
import type { TdxAppraisalClaims, TdxClaims } from './claims.js';
import { verifyTdx } from './verify.js';

export function normalizeTdx(c: TdxClaims): TdxAppraisalClaims {
  return {
    tee: 'tdx',
    simulated: c.simulated,
    quote_version: c.quoteVersion,
    body: c.body,
    tee_tcb_svn: c.teeTcbSvn,
    mr_seam: c.mrSeam,
    mr_signer_seam: c.mrSignerSeam,
    seam_attributes: c.seamAttributes,
    td_attributes: c.tdAttributes,
    xfam: c.xfam,
    mr_td: c.mrTd,
    mr_config_id: c.mrConfigId,
    mr_owner: c.mrOwner,
    mr_owner_config: c.mrOwnerConfig,
    rtmr0: c.rtmrs[0],
    rtmr1: c.rtmrs[1],
    rtmr2: c.rtmrs[2],
    rtmr3: c.rtmrs[3],
    report_data: c.reportData,
    debug: c.debug,
    ...(c.mrServiceTd ? { mr_service_td: c.mrServiceTd } : {}),
    fmspc: c.fmspc,
    tcb_status: c.tcbStatus,
    ...(c.tdxModuleTcbStatus ? { tdx_module_tcb_status: c.tdxModuleTcbStatus } : {}),
    advisory_ids: c.advisoryIds,
    qe_tcb_status: c.qeTcbStatus,
    revocation_checked: c.revocationChecked,
  };
}

/** MAA's TDX claim names (`x-ms-attestation-type: tdxvm`, `tdx_*` as in MAA's TDX tokens). */
function tdxTokenClaims(c: TdxAppraisalClaims): Record<string, unknown> {
  return {
    'x-ms-attestation-type': 'tdxvm',
    tdx_mrtd: c.mr_td,
    tdx_mrseam: c.mr_seam,
    tdx_mrsignerseam: c.mr_signer_seam,
    tdx_mrconfigid: c.mr_config_id,
    tdx_mrowner: c.mr_owner,
    tdx_mrownerconfig: c.mr_owner_config,
    tdx_rtmr0: c.rtmr0,
    tdx_rtmr1: c.rtmr1,
    tdx_rtmr2: c.rtmr2,
    tdx_rtmr3: c.rtmr3,
    tdx_report_data: c.report_data,
    tdx_seam_attributes: c.seam_attributes,
    tdx_td_attributes: c.td_attributes,
    tdx_td_attributes_debug: c.debug,
    tdx_tee_tcb_svn: c.tee_tcb_svn,
    tdx_xfam: c.xfam,
    'x-confcom-tdx-advisory-ids': c.advisory_ids,
    'x-confcom-tdx-revocation-checked': c.revocation_checked,
  };
}

export const tdx: TeeModule<TdxClaims, TdxAppraisalClaims> = {
  name: 'tdx',
  aliases: ['intel-tdx', 'tdxvm'],
  what: 'TDX quote',
  sniff: (bytes) => bytes.length >= 8 && [4, 5].includes(bytes.readUInt16LE(0)) && bytes.readUInt16LE(2) === ATT_KEY_TYPE_ECDSA_P256 && bytes.readUInt32LE(4) === TEE_TYPE_TDX,
  // Same JSON form as SGX ({quote, collateral}); told apart by the quote's TEE type.
  fromJson(doc, decode) {
    if (doc.quote === undefined) return undefined;
    const bytes = decode(doc.quote, 'quote');
    return bytes.length >= 8 && bytes.readUInt32LE(4) === TEE_TYPE_TDX ? { bytes, options: { collateral: doc.collateral } } : undefined;
  },
  verify: (bytes, options) => verifyTdx(bytes, options),
  normalize: normalizeTdx,
  summary(c) {
    const sim = c.simulated ? ' (SIMULATED)' : '';
    return [
      `verified: TDX quote v${c.quoteVersion} (${c.body})${sim}`,
      `  mr_td         ${c.mrTd}`,
      `  rtmr0..3      ${c.rtmrs.map((r) => r.slice(0, 16)).join(' ')} ...`,
      `  report_data   ${c.reportData}`,
      `  debug         ${c.debug}`,
      `  tcb_status    ${c.tcbStatus}${c.tdxModuleTcbStatus ? ` (TDX module ${c.tdxModuleTcbStatus})` : ''}${c.advisoryIds.length ? ` (${c.advisoryIds.join(', ')})` : ''}; QE ${c.qeTcbStatus}`,
      ...(c.revocationChecked ? [] : ['  revocation    NOT CHECKED (the collateral had no CRLs)']),
    ];
  },
  tcbStatus: (c) => [c.tcbStatus, c.qeTcbStatus],
  tokenClaims: tdxTokenClaims,
  auditFields: (c) => ({ mr_td: c.mr_td, debug: c.debug }),
};
