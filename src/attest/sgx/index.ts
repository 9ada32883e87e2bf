/** The SGX kind for the TEE registry: an ECDSA DCAP quote (v3/v4, TEE type SGX) with its collateral. */
import type { SgxClaims } from '../claims.js';
import type { SgxAppraisalClaims } from '../appraisal/types.js';
import type { TeeModule } from '../registry.js';
import { ATT_KEY_TYPE_ECDSA_P256, TEE_TYPE_SGX } from './abi.js';
import { sgxAuditFields, sgxClaims } from './token.js';
import { normalizeSgx } from './normalize.js';
import { verifySgx } from './verify.js';

export const sgx: TeeModule<SgxClaims, SgxAppraisalClaims> = {
  name: 'sgx',
  aliases: ['intel-sgx'],
  what: 'SGX quote',
  sniff: (bytes) =>
    bytes.length >= 8 && [3, 4].includes(bytes.readUInt16LE(0)) && bytes.readUInt16LE(2) === ATT_KEY_TYPE_ECDSA_P256 && bytes.readUInt32LE(4) === TEE_TYPE_SGX,
  fromJson: (doc, decode) => (doc.quote === undefined ? undefined : { bytes: decode(doc.quote, 'quote'), options: { collateral: doc.collateral } }),
  verify: (bytes, options) => verifySgx(bytes, options),
  normalize: normalizeSgx,
  summary(claims) {
    const sim = claims.simulated ? ' (SIMULATED)' : '';
    return [
      `verified: SGX quote v${claims.quoteVersion}${sim}`,
      `  mrenclave     ${claims.mrenclave}`,
      `  mrsigner      ${claims.mrsigner}`,
      `  report_data   ${claims.reportData}`,
      `  debug         ${claims.debug}`,
      `  tcb_status    ${claims.tcbStatus}${claims.advisoryIds.length ? ` (${claims.advisoryIds.join(', ')})` : ''}; QE ${claims.qeTcbStatus}`,
    ];
  },
  tcbStatus: (claims) => [claims.tcbStatus, claims.qeTcbStatus],
  tokenClaims: sgxClaims,
  auditFields: sgxAuditFields,
};
