/**
 * The QE identity's status folds into the quote's TCB status the way Intel's QVL converges them
 * (an out-of-date QE makes a current platform OutOfDate; a revoked one revokes), for SGX and TDX
 * quotes alike; the platform's own level stays visible as platformTcbStatus.
 */
import { describe, expect, it } from 'vitest';
import { convergeTcbStatus } from '../../../src/attest/sgx/collateral.js';
import { verifySgx } from '../../../src/attest/sgx/verify.js';
import { SimulatedSgxPlatform } from '../../../src/attest/sim/sgx.js';
import { SimulatedTdxPlatform } from '../../../src/attest/sim/tdx.js';
import { verifyTdx } from '../../../src/attest/tdx/verify.js';
import { codeOf } from '../sim/error-code.js';

const trusted = { trustSimulator: true };

describe('convergence of the platform TCB status with the QE (or TDX module) status', () => {
  it('follows Intel\'s table', () => {
    const table: [string, string | undefined, string][] = [
      ['UpToDate', undefined, 'UpToDate'],
      ['SWHardeningNeeded', 'UpToDate', 'SWHardeningNeeded'],
      ['UpToDate', 'OutOfDate', 'OutOfDate'],
      ['SWHardeningNeeded', 'OutOfDate', 'OutOfDate'],
      ['ConfigurationNeeded', 'OutOfDate', 'OutOfDateConfigurationNeeded'],
      ['ConfigurationAndSWHardeningNeeded', 'OutOfDate', 'OutOfDateConfigurationNeeded'],
      ['OutOfDate', 'OutOfDate', 'OutOfDate'],
      ['OutOfDateConfigurationNeeded', 'OutOfDate', 'OutOfDateConfigurationNeeded'],
      ['UpToDate', 'Revoked', 'Revoked'],
      ['Revoked', 'UpToDate', 'Revoked'],
    ];
    for (const [platform, other, want] of table) expect(convergeTcbStatus(platform, other), `${platform} + ${other}`).toBe(want);
  });

  it('SGX: an OutOfDate QE identity makes an UpToDate platform OutOfDate; a Revoked one is refused', () => {
    const sgx = new SimulatedSgxPlatform();
    const out = sgx.quote({ reportData: Buffer.alloc(64), qeTcbStatus: 'OutOfDate' });
    expect(verifySgx(out.quote, { ...trusted, collateral: out.collateral })).toMatchObject({ tcbStatus: 'OutOfDate', platformTcbStatus: 'UpToDate', qeTcbStatus: 'OutOfDate' });
    const cfg = sgx.quote({ reportData: Buffer.alloc(64), tcbStatus: 'ConfigurationNeeded', qeTcbStatus: 'OutOfDate' });
    expect(verifySgx(cfg.quote, { ...trusted, collateral: cfg.collateral }).tcbStatus).toBe('OutOfDateConfigurationNeeded');
    const revoked = sgx.quote({ reportData: Buffer.alloc(64), qeTcbStatus: 'Revoked' });
    expect(codeOf(() => verifySgx(revoked.quote, { ...trusted, collateral: revoked.collateral }))).toBe('sgx_tcb_revoked');
  });

  it('TDX: platform, TDX module and TD_QE statuses converge in that order', () => {
    const tdx = new SimulatedTdxPlatform();
    const out = tdx.tdxQuote({ qeTcbStatus: 'OutOfDate' });
    expect(verifyTdx(out.quote, { ...trusted, collateral: out.collateral })).toMatchObject({ tcbStatus: 'OutOfDate', platformTcbStatus: 'UpToDate', tdxModuleTcbStatus: 'UpToDate', qeTcbStatus: 'OutOfDate' });
    const hardening = tdx.tdxQuote({ tcbStatus: 'SWHardeningNeeded' });
    expect(verifyTdx(hardening.quote, { ...trusted, collateral: hardening.collateral })).toMatchObject({ tcbStatus: 'SWHardeningNeeded', qeTcbStatus: 'UpToDate' });
    const revoked = tdx.tdxQuote({ qeTcbStatus: 'Revoked' });
    expect(codeOf(() => verifyTdx(revoked.quote, { ...trusted, collateral: revoked.collateral }))).toBe('tdx_tcb_revoked');
  });
});
