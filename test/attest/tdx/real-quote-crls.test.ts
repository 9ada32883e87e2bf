/**
 * A real TDX quote with the collateral taken for it on the same day, CRLs included (dcap-qvl's NEAR
 * gas test, MIT; test/fixtures/attest/tdx-dcap-qvl/gas-test-*). dcap-qvl's test expects verification to
 * succeed at 2025-09-10T00:00:00Z; here it does, with revocation checked, and Intel's rules rate it
 * UpToDate: the PCK's SGX components and PCESVN 13 meet the first TCB level, TEE_TCB_SVN 06 01 04
 * meets its TDX components from index 2 on (module major 1 > 0), the module identity TDX_01 rates
 * SVN 6 UpToDate, and the TD_QE identity rates ISVSVN 6 UpToDate.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTdxQuote } from '../../../src/attest/tdx/abi.js';
import type { TdxClaims } from '../../../src/attest/tdx/claims.js';
import { tdx } from '../../../src/attest/tdx/index.js';
import { verifyEvidence } from '../../../src/attest/verify.js';
import { codeOf } from '../sim/error-code.js';

const dir = new URL('../../fixtures/attest/tdx-dcap-qvl/', import.meta.url);
const quote = Buffer.from(readFileSync(new URL('gas-test-quote_hex.txt', dir), 'utf8').trim(), 'hex');
const collateral = JSON.parse(readFileSync(new URL('gas-test-quote_collateral.json', dir), 'utf8')) as Record<string, string>;
// dcap-qvl's fixed time for this pair (get_block_timestamp_secs with the test feature: 1_757_462_400).
const AT = new Date(1_757_462_400 * 1000);

describe('real TDX quote with same-day collateral and CRLs (dcap-qvl gas test)', () => {
  it('verifies UpToDate at the source\'s time, revocation checked', async () => {
    const claims = (await tdx.verify(quote, { collateral, at: AT })) as TdxClaims;
    expect(claims).toMatchObject({
      tee: 'tdx', simulated: false, quoteVersion: 4, body: 'TD1.0', fmspc: '20a06f000000', teeTcbSvn: '06010400000000000000000000000000',
      tcbStatus: 'UpToDate', platformTcbStatus: 'UpToDate', tdxModuleTcbStatus: 'UpToDate', qeTcbStatus: 'UpToDate', advisoryIds: [], revocationChecked: true, debug: false,
    });
    const json = Buffer.from(JSON.stringify({ quote: quote.toString('hex'), collateral }));
    expect(((await verifyEvidence(json, { at: AT })) as TdxClaims).mrTd).toBe(claims.mrTd);
  });

  it('refuses it outside the collateral window and the CRLs\' validity', () => {
    expect(codeOf(() => tdx.verify(quote, { collateral, at: new Date('2025-10-03T00:00:00Z') }))).toBe('sgx_collateral_expired');
    expect(codeOf(() => tdx.verify(quote, { collateral, at: new Date('2025-09-01T00:00:00Z') }))).toBe('sgx_collateral_expired');
  });

  it('refuses edits of the signed quote, the QE report, the TCB info, the QE identity and the CRLs', () => {
    const q = parseTdxQuote(quote);
    for (const at of [0, 8, 48, 48 + 136, 48 + 520, 48 + 583]) {
      const edited = Buffer.from(quote);
      edited[at] ^= 0x01;
      expect(codeOf(() => tdx.verify(edited, { collateral, at: AT })), `byte ${at}`).toMatch(/signature_invalid|unsupported|version/);
    }
    const qe = Buffer.from(quote);
    qe[quote.indexOf(q.qeReport.raw) + 64] ^= 0x01;
    expect(codeOf(() => tdx.verify(qe, { collateral, at: AT }))).toBe('sgx_qe_report_invalid');
    const edits: [string, string, string][] = [
      ['tcb_info', '"pcesvn":13', '"pcesvn":12'],
      ['qe_identity', '"isvsvn":4', '"isvsvn":3'],
    ];
    for (const [field, from, to] of edits) {
      expect(codeOf(() => tdx.verify(quote, { collateral: { ...collateral, [field]: collateral[field].replace(from, to) }, at: AT })), field).toBe('sgx_collateral_invalid');
    }
    for (const field of ['pck_crl', 'root_ca_crl']) {
      const crl = collateral[field];
      // The last byte of the CRL's signature.
      const edited = crl.slice(0, -2) + (crl.slice(-2) === '00' ? '01' : '00');
      expect(codeOf(() => tdx.verify(quote, { collateral: { ...collateral, [field]: edited }, at: AT })), field).toMatch(/crl/);
    }
  });
});
