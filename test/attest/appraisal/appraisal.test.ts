import { describe, expect, it } from 'vitest';
import { appraise, parseReferenceValues, type SgxAppraisalClaims, type SnpAppraisalClaims } from '../../../src/attest/appraisal/index.js';
import { InputError } from '../../../src/core/errors.js';

const HOST_DATA = '11'.repeat(32);
const MEASUREMENT = '22'.repeat(48);

function snp(overrides: Partial<SnpAppraisalClaims> = {}): SnpAppraisalClaims {
  const tcb = { bootloader: 3, tee: 0, snp: 8, microcode: 115 };
  return {
    tee: 'snp',
    simulated: false,
    version: 2,
    guest_svn: 1,
    policy: { raw: '0x30000', abi_major: 0, abi_minor: 0, smt: true, migration_agent: false, debug: false, single_socket: false },
    product: 'Milan',
    signing_key: 'vcek',
    family_id: '00'.repeat(16),
    image_id: '00'.repeat(16),
    vmpl: 0,
    current_tcb: tcb,
    reported_tcb: tcb,
    committed_tcb: tcb,
    launch_tcb: tcb,
    platform_info: { smt_enabled: true, tsme_enabled: false, raw: '0x3' },
    report_data: '00'.repeat(64),
    measurement: MEASUREMENT,
    host_data: HOST_DATA,
    id_key_digest: '00'.repeat(48),
    author_key_digest: '00'.repeat(48),
    report_id: '00'.repeat(32),
    chip_id: '00'.repeat(64),
    ...overrides,
  };
}

function sgx(overrides: Partial<SgxAppraisalClaims> = {}): SgxAppraisalClaims {
  return {
    tee: 'sgx',
    simulated: false,
    mrenclave: 'aa'.repeat(32),
    mrsigner: 'bb'.repeat(32),
    isvprodid: 1,
    isvsvn: 3,
    report_data: '00'.repeat(64),
    debug: false,
    attributes: '0'.repeat(32),
    quote_version: 3,
    fmspc: '00a067110000',
    tcb_status: 'UpToDate',
    advisory_ids: [],
    ...overrides,
  };
}

const reference = parseReferenceValues({
  snp: { host_data: [HOST_DATA.toUpperCase()], measurements: [MEASUREMENT], min_tcb: { bootloader: 3, snp: 8, microcode: 100 } },
  sgx: { mrenclave: ['AA'.repeat(32)], mrsigner: ['bb'.repeat(32)], isvprodid: 1, min_isvsvn: 2 },
});

describe('appraisal with the default Rego policy', () => {
  it('allows evidence that meets every reference value, and reports every claim', async () => {
    const result = await appraise(snp(), { reference });
    expect(result.decision).toEqual({ allow: true, reasons: [] });
    expect(result.policy.name).toBe('default');
    expect(result.policy.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(result.claims).toMatchObject({ host_data: HOST_DATA, measurement: MEASUREMENT, reported_tcb: { snp: 8 } });
    expect((await appraise(sgx(), { reference })).decision.allow).toBe(true);
  });

  it('SNP: refuses debug, migration agent, unknown HOST_DATA or measurement, a TCB below the minimum', async () => {
    const cases: [Partial<SnpAppraisalClaims>, string][] = [
      [{ policy: { ...snp().policy, debug: true } }, 'debugging is allowed'],
      [{ policy: { ...snp().policy, migration_agent: true } }, 'migration agent'],
      [{ host_data: '33'.repeat(32) }, `HOST_DATA ${'33'.repeat(32)} is not an allowed value`],
      [{ measurement: '44'.repeat(48) }, 'is not an expected measurement'],
      [{ reported_tcb: { bootloader: 3, tee: 0, snp: 7, microcode: 115 } }, 'reported TCB snp SPL 7 is below the minimum 8'],
      [{ reported_tcb: { bootloader: 2, tee: 0, snp: 8, microcode: 99 } }, 'microcode SPL 99 is below the minimum 100'],
    ];
    for (const [overrides, reason] of cases) {
      const result = await appraise(snp(overrides), { reference });
      expect(result.decision.allow, reason).toBe(false);
      expect(result.decision.reasons.join('\n')).toContain(reason);
    }
    // Two failures, two reasons.
    const both = await appraise(snp({ host_data: '33'.repeat(32), policy: { ...snp().policy, debug: true } }), { reference });
    expect(both.decision.reasons).toHaveLength(2);
  });

  it('without reference lists, debug and migration are still refused; an empty list allows nothing', async () => {
    expect((await appraise(snp())).decision.allow).toBe(true);
    expect((await appraise(snp({ policy: { ...snp().policy, debug: true } }))).decision.allow).toBe(false);
    expect((await appraise(snp(), { reference: parseReferenceValues({ snp: { host_data: [] } }) })).decision.allow).toBe(false);
    expect((await appraise(snp({ policy: { ...snp().policy, debug: true } }), { reference: parseReferenceValues({ snp: { allow_debug: true } }) })).decision.allow).toBe(true);
  });

  it('SGX: refuses debug enclaves, unknown MRENCLAVE/MRSIGNER, wrong product, low SVN, non-accepted TCB status', async () => {
    const cases: [Partial<SgxAppraisalClaims>, string][] = [
      [{ debug: true }, 'debuggable'],
      [{ mrenclave: 'cc'.repeat(32) }, 'MRENCLAVE'],
      [{ mrsigner: 'cc'.repeat(32) }, 'MRSIGNER'],
      [{ isvprodid: 2 }, 'ISVPRODID 2'],
      [{ isvsvn: 1 }, 'ISVSVN 1 is below the minimum 2'],
      [{ tcb_status: 'OutOfDate' }, 'platform TCB status OutOfDate'],
      [{ tcb_status: undefined }, 'TCB status is unknown'],
    ];
    for (const [overrides, reason] of cases) {
      const result = await appraise(sgx(overrides), { reference });
      expect(result.decision.allow, reason).toBe(false);
      expect(result.decision.reasons.join('\n')).toContain(reason);
    }
    const relaxed = parseReferenceValues({ sgx: { tcb_status: ['UpToDate', 'SWHardeningNeeded'] } });
    expect((await appraise(sgx({ tcb_status: 'SWHardeningNeeded' }), { reference: relaxed })).decision.allow).toBe(true);
  });

  it('a custom policy decides; a policy without allow, or one that fails, denies', async () => {
    const custom = 'package confcom.appraisal\n\nallow if input.claims.vmpl == 0\n';
    expect((await appraise(snp(), { policy: custom })).decision.allow).toBe(true);
    expect((await appraise(snp({ vmpl: 1 }), { policy: custom })).decision.allow).toBe(false);
    const noAllow = await appraise(snp(), { policy: 'package confcom.appraisal\n\nx := 1\n' });
    expect(noAllow.decision.allow).toBe(false);
    expect(noAllow.decision.reasons[0]).toContain('does not define');
    const conflict = await appraise(snp(), { policy: 'package confcom.appraisal\n\nallow := true\nallow := false\n' }).catch((e: unknown) => e);
    expect(conflict instanceof InputError || (conflict as { decision: { allow: boolean } }).decision.allow === false).toBe(true);
  });
});

describe('reference values', () => {
  it('lower-cases hex and rejects wrong lengths, unknown fields and bad types with the field path', () => {
    expect(reference.snp?.host_data).toEqual([HOST_DATA]);
    const bad: [unknown, string][] = [
      [{ snp: { host_data: ['abcd'] } }, 'snp.host_data[0]'],
      [{ snp: { hostdata: [] } }, 'snp.hostdata'],
      [{ snp: { min_tcb: { snp: -1 } } }, 'snp.min_tcb.snp'],
      [{ sgx: { allow_debug: 'no' } }, 'sgx.allow_debug'],
      [{ tdx: { mr_td: ['ab'] } }, 'tdx.mr_td[0]'],
      [{ cca: {} }, '$.cca'],
    ];
    for (const [doc, path] of bad) {
      try {
        parseReferenceValues(doc, 'ref.yaml');
        expect.unreachable(JSON.stringify(doc));
      } catch (error) {
        expect((error as InputError).code).toBe('reference_invalid');
        expect((error as InputError).location?.path).toBe(path);
      }
    }
  });
});
