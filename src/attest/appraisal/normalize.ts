/**
 * The verifier's claims (camelCase, src/attest/claims.ts) to the appraisal's input (snake_case JSON,
 * ./types.ts): the names a Rego policy reads as `input.claims`. PLATFORM_INFO's flag bits are spelled
 * out so a policy need not do bit arithmetic. Already-normalised claims pass through unchanged.
 */
import type { EvidenceClaims, SgxClaims, SnpClaims, TcbVersion } from '../claims.js';
import type { AppraisalClaims, SgxAppraisalClaims, SnpAppraisalClaims, SnpTcb } from './types.js';

function tcb(t: TcbVersion): SnpTcb {
  const out: SnpTcb = { bootloader: t.bootloader, tee: t.tee, snp: t.snp, microcode: t.microcode, raw: t.raw };
  if (t.fmc !== undefined) out.fmc = t.fmc;
  return out;
}

function snp(c: SnpClaims): SnpAppraisalClaims {
  const platformInfo = BigInt(`0x${c.platformInfo || '0'}`);
  return {
    tee: 'snp',
    simulated: c.simulated,
    product: c.product,
    signing_key: c.signingKey,
    version: c.version,
    guest_svn: c.guestSvn,
    policy: {
      raw: c.policy.raw,
      abi_major: c.policy.abiMajor,
      abi_minor: c.policy.abiMinor,
      smt: c.policy.smt,
      migration_agent: c.policy.migrateMa,
      debug: c.policy.debug,
      single_socket: c.policy.singleSocket,
    },
    family_id: c.familyId,
    image_id: c.imageId,
    vmpl: c.vmpl,
    current_tcb: tcb(c.currentTcb),
    reported_tcb: tcb(c.reportedTcb),
    committed_tcb: tcb(c.committedTcb),
    launch_tcb: tcb(c.launchTcb),
    // PLATFORM_INFO bit 0: SMT enabled; bit 1: TSME enabled (SEV-SNP ABI, ATTESTATION_REPORT).
    platform_info: { smt_enabled: (platformInfo & 1n) !== 0n, tsme_enabled: (platformInfo & 2n) !== 0n, raw: c.platformInfo },
    report_data: c.reportData,
    measurement: c.measurement,
    host_data: c.hostData,
    id_key_digest: c.idKeyDigest,
    author_key_digest: c.authorKeyDigest,
    report_id: c.reportId,
    chip_id: c.chipId,
  };
}

function sgx(c: SgxClaims): SgxAppraisalClaims {
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

function isNormalized(claims: EvidenceClaims | AppraisalClaims): claims is AppraisalClaims {
  return 'tee' in claims;
}

export function normalizeClaims(claims: EvidenceClaims | AppraisalClaims): AppraisalClaims {
  if (isNormalized(claims)) return claims;
  return claims.type === 'sevsnp' ? snp(claims) : sgx(claims);
}
