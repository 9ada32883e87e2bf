/** SEV-SNP claims (camelCase) to the appraisal's snake_case view; PLATFORM_INFO flag bits spelled out. */
import type { SnpClaims, TcbVersion } from '../claims.js';
import type { SnpAppraisalClaims, SnpTcb } from '../appraisal/types.js';

function tcb(t: TcbVersion): SnpTcb {
  const out: SnpTcb = { bootloader: t.bootloader, tee: t.tee, snp: t.snp, microcode: t.microcode, raw: t.raw };
  if (t.fmc !== undefined) out.fmc = t.fmc;
  return out;
}

export function normalizeSnp(c: SnpClaims): SnpAppraisalClaims {
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
