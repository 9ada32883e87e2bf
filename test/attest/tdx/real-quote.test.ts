/**
 * A real TDX quote with real TDX collateral (dcap-qvl sample, MIT; test/fixtures/attest/tdx-dcap-qvl).
 * Every signature verifies (PCK chain to Intel's pinned root, QE report, attestation key, TCB info and
 * TD_QE identity); the TCB judgement, which runs last, refuses with `tdx_tcb_unrecognized` because the
 * platform's SEAMLDR SVN is below both TCB levels. So reaching that code proves the signatures, and any
 * edit of the signed bytes is refused earlier with a signature code.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTdxQuote } from '../../../src/attest/tdx/abi.js';
import type { TdxClaims } from '../../../src/attest/tdx/claims.js';
import { tdx } from '../../../src/attest/tdx/index.js';
import { verifyEvidence } from '../../../src/attest/verify.js';
import { codeOf, codeOfAsync } from '../sim/error-code.js';

const dir = new URL('../../fixtures/attest/tdx-dcap-qvl/', import.meta.url);
const quote = Buffer.from(readFileSync(new URL('tdx-quote.hex', dir), 'utf8').trim().replace(/^0x/, ''), 'hex');
const collateralText = readFileSync(new URL('tdx_quote_collateral.json', dir), 'utf8');
const collateral = JSON.parse(collateralText) as Record<string, string>;
const AT = new Date('2025-03-20T00:00:00Z');
const options = { collateral, at: AT, allowMissingCrls: true };

describe('real TDX quote (dcap-qvl sample)', () => {
  it('parses as a v4 TD 1.0 quote with a PCK chain and 70 bytes of zero padding', () => {
    expect(quote.length).toBe(5006);
    const q = parseTdxQuote(quote);
    expect(q).toMatchObject({ version: 4, bodyType: 2, certType: 5 });
    expect(q.body.teeTcbSvn.toString('hex')).toBe('05010200000000000000000000000000');
    expect(q.body.tdAttributes.toString('hex')).toBe('0000001000000000');
    expect(q.certData.toString('latin1')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('verifies every signature and reaches the TCB judgement, which refuses: SEAMLDR SVN 3 < 5', async () => {
    expect(codeOf(() => tdx.verify(quote, options))).toBe('tdx_tcb_unrecognized');
    const json = Buffer.from(JSON.stringify({ quote: quote.toString('hex'), collateral }));
    expect(await codeOfAsync(async () => verifyEvidence(json, { at: AT, allowMissingCrls: true }))).toBe('tdx_tcb_unrecognized');
  });

  it('fails closed without CRLs unless told, and refuses collateral outside its window', () => {
    expect(codeOf(() => tdx.verify(quote, { collateral, at: AT }))).toBe('sgx_collateral_malformed');
    expect(codeOf(() => tdx.verify(quote, { ...options, at: new Date('2025-05-01T00:00:00Z') }))).toBe('sgx_collateral_expired');
  });

  it('refuses edits of the signed quote, the QE report, the TCB info and the QE identity', () => {
    const q = parseTdxQuote(quote);
    for (const at of [0, 8, 48, 48 + 136, 48 + 520, 48 + 583]) {
      const edited = Buffer.from(quote);
      edited[at] ^= 0x01;
      expect(codeOf(() => tdx.verify(edited, options)), `byte ${at}`).toMatch(/signature_invalid|unsupported|version/);
    }
    const qeAt = quote.indexOf(q.qeReport.raw) + 64;
    const qe = Buffer.from(quote);
    qe[qeAt] ^= 0x01;
    expect(codeOf(() => tdx.verify(qe, options))).toBe('sgx_qe_report_invalid');
    const tcb = { ...collateral, tcb_info: collateral.tcb_info.replace('"pcesvn":11', '"pcesvn":10') };
    expect(codeOf(() => tdx.verify(quote, { ...options, collateral: tcb }))).toBe('sgx_collateral_invalid');
    const qeId = { ...collateral, qe_identity: collateral.qe_identity.replace('"isvsvn":4', '"isvsvn":3') };
    expect(codeOf(() => tdx.verify(quote, { ...options, collateral: qeId }))).toBe('sgx_collateral_invalid');
  });
});

/**
 * dcap-qvl's binary sample/tdx_quote, rebuilt from dcap-qvl's own snapshot of its parsed fields
 * (test/fixtures/attest/tdx-dcap-qvl/README.md says how), with the collateral dcap-qvl pairs it with
 * (tdx_quote_collateral.json). dcap-qvl's test `could_parse_tdx_quote` expects UpToDate and no
 * advisories; so do Intel's rules here, and every signature over the rebuilt bytes verifies.
 */
describe("real TDX quote paired with dcap-qvl's sample collateral (sample/tdx_quote)", () => {
  const rebuilt = Buffer.from(readFileSync(new URL('tdx_quote.reconstructed.hex', dir), 'utf8').trim(), 'hex');

  it('verifies UpToDate with no advisories, as dcap-qvl expects', () => {
    const claims = tdx.verify(rebuilt, options) as TdxClaims;
    expect(claims).toMatchObject({
      tee: 'tdx', simulated: false, quoteVersion: 4, fmspc: 'b0c06f000000', teeTcbSvn: '06010300000000000000000000000000',
      tcbStatus: 'UpToDate', platformTcbStatus: 'UpToDate', tdxModuleTcbStatus: 'UpToDate', qeTcbStatus: 'UpToDate', advisoryIds: [], revocationChecked: false,
    });
    expect(claims.mrTd).toBe('91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7');
  });

  it('is refused once a signed byte or the QE report changes', () => {
    for (const at of [48 + 1, 48 + 200, 48 + 583]) {
      const edited = Buffer.from(rebuilt);
      edited[at] ^= 0x01;
      expect(codeOf(() => tdx.verify(edited, options)), `byte ${at}`).toBe('tdx_quote_signature_invalid');
    }
    const qe = Buffer.from(rebuilt);
    qe[rebuilt.indexOf(parseTdxQuote(rebuilt).qeReport.raw) + 320] ^= 0x01;
    expect(codeOf(() => tdx.verify(qe, options))).toBe('sgx_qe_report_invalid');
  });
});
