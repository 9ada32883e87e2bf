/**
 * TDX quotes v4 and v5 (TD 1.0 and TD 1.5 bodies) from the simulated TDX platform: the whole chain
 * verifies through the registry, TCB statuses come from the signed TDX TCB info (platform, TDX module,
 * TD_QE), and every edit of the signed region, the QE report or the collateral is refused.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedTdxPlatform } from '../../../src/attest/sim/tdx.js';
import type { TdxClaims } from '../../../src/attest/tdx/claims.js';
import { tdx } from '../../../src/attest/tdx/index.js';
import { TD10_BODY_SIZE, TD15_BODY_SIZE } from '../../../src/attest/tdx/abi.js';
import { verifyEvidence } from '../../../src/attest/verify.js';
import { appraise } from '../../../src/attest/appraisal/index.js';
import { tokenClaims } from '../../../src/attest/token/claims.js';
import { codeOf } from '../sim/error-code.js';

const platform = new SimulatedTdxPlatform();
const reportData = Buffer.alloc(64, 0xab);
const trusted = { trustSimulator: true };

describe('TDX quotes (simulated platform)', () => {
  for (const [version, td15] of [[4, false], [5, false], [5, true]] as const) {
    it(`verifies a v${version} quote${td15 ? ' with a TD 1.5 body' : ''} through the registry`, async () => {
      const { quote, collateral } = platform.tdxQuote({ quoteVersion: version, td15, reportData });
      const json = Buffer.from(JSON.stringify({ quote: quote.toString('base64'), collateral }));
      const claims = (await verifyEvidence(json, trusted)) as TdxClaims;
      expect(claims).toMatchObject({ tee: 'tdx', simulated: true, quoteVersion: version, body: td15 ? 'TD1.5' : 'TD1.0', tcbStatus: 'UpToDate', tdxModuleTcbStatus: 'UpToDate', qeTcbStatus: 'UpToDate', debug: false, revocationChecked: true });
      expect(claims.reportData).toBe(reportData.toString('hex'));
      expect((await verifyEvidence(quote, { ...trusted, collateral })).tee).toBe('tdx');
      expect(codeOf(() => tdx.verify(quote, { collateral }))).toBe('simulator_not_trusted');
    });
  }

  it('converges an OutOfDate TDX module into the platform status; the default policy then denies', async () => {
    const { quote, collateral } = platform.tdxQuote({ moduleSvn: 2 });
    const claims = (await tdx.verify(quote, { ...trusted, collateral })) as TdxClaims;
    expect(claims).toMatchObject({ tcbStatus: 'OutOfDate', tdxModuleTcbStatus: 'OutOfDate' });
    const appraisal = await appraise(claims);
    expect(appraisal.decision.allow).toBe(false);
    const ok = await appraise((await tdx.verify(platform.tdxQuote({}).quote, { ...trusted, collateral: platform.tdxQuote({}).collateral })) as TdxClaims);
    expect(ok.decision).toEqual({ allow: true, reasons: [] });
    expect(tokenClaims(ok, undefined)).toMatchObject({ 'x-ms-attestation-type': 'tdxvm', 'x-confcom-tcb-status': 'UpToDate' });
    const debug = await appraise((await tdx.verify(platform.tdxQuote({ debug: true }).quote, { ...trusted, collateral })) as TdxClaims);
    expect(debug.decision.reasons.join()).toMatch(/debug/);
  });

  it('refuses every edited byte of the header and TD report, and edits of the QE report and signature', () => {
    const { quote, collateral } = platform.tdxQuote({ quoteVersion: 5, td15: true });
    const signedEnd = 48 + 6 + TD15_BODY_SIZE;
    const codes = new Set<string>();
    for (let at = 0; at < signedEnd; at += 7) {
      const edited = Buffer.from(quote);
      edited[at] ^= 0x01;
      const code = codeOf(() => tdx.verify(edited, { ...trusted, collateral }));
      expect(code, `byte ${at}`).not.toBe('accepted');
      codes.add(code);
    }
    expect(codes.has('tdx_quote_signature_invalid')).toBe(true);
    const qeAt = signedEnd + 4 + 128 + 6 + 100;
    const qeEdited = Buffer.from(quote);
    qeEdited[qeAt] ^= 0x01;
    expect(codeOf(() => tdx.verify(qeEdited, { ...trusted, collateral }))).toBe('sgx_qe_report_invalid');
    const padded = Buffer.concat([quote, Buffer.alloc(16)]);
    expect(codeOf(() => tdx.verify(padded, { ...trusted, collateral }))).toBe('accepted');
    expect(codeOf(() => tdx.verify(Buffer.concat([quote, Buffer.from([1])]), { ...trusted, collateral }))).toBe('evidence_oversized');
    expect(TD10_BODY_SIZE).toBe(584);
  });

  it('fails closed without CRLs unless allowed, and then says revocation was not checked', () => {
    const { quote, collateral } = platform.tdxQuote({});
    const { pck_crl: _p, root_ca_crl: _r, ...noCrls } = collateral;
    expect(codeOf(() => tdx.verify(quote, { ...trusted, collateral: noCrls }))).toBe('sgx_collateral_malformed');
    const claims = tdx.verify(quote, { ...trusted, collateral: noCrls, allowMissingCrls: true }) as TdxClaims;
    expect(claims.revocationChecked).toBe(false);
    const tampered = { ...collateral, tcb_info: collateral.tcb_info.replace('"UpToDate"', '"UpToDate" ') };
    expect(codeOf(() => tdx.verify(quote, { ...trusted, collateral: tampered }))).toBe('sgx_collateral_invalid');
  });
});
