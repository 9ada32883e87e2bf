/**
 * The real SGX DCAP quote and collateral from dcap-qvl's samples, verified against Intel's pinned SGX
 * Root CA with the clock pinned inside the collateral's window; every alteration refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfcomError, ExitCode } from '../../../src/core/errors.js';
import { parseQuote, SIGNED_QUOTE_LENGTH } from '../../../src/attest/sgx/abi.js';
import type { SgxCollateralInput } from '../../../src/attest/sgx/collateral.js';
import { verifySgx } from '../../../src/attest/sgx/verify.js';
import { verifyEvidence, verifySgxQuote } from '../../../src/attest/verify.js';
import { codeOf } from '../sim/error-code.js';
import { sharedPath } from '../../helpers/shared.js';

const dir = sharedPath('attestation-vectors/sgx/dcap-qvl');
const AT = new Date('2025-07-01T00:00:00Z');

describe.skipIf(!dir)('the real SGX quote', () => {
  let quote: Buffer;
  let collateral: SgxCollateralInput;
  beforeAll(() => {
    quote = readFileSync(join(dir as string, 'quote.bin'));
    collateral = JSON.parse(readFileSync(join(dir as string, 'collateral.json'), 'utf8')) as SgxCollateralInput;
  });

  it('verifies with the facts the README lists', async () => {
    const claims = await verifySgxQuote(quote, { collateral, at: AT });
    expect(claims).toMatchObject({
      tee: 'sgx',
      simulated: false,
      quoteVersion: 3,
      fmspc: '00a067110000',
      tcbStatus: 'ConfigurationAndSWHardeningNeeded',
      qeTcbStatus: 'UpToDate',
      debug: false,
    });
    expect([...claims.advisoryIds].sort()).toEqual(['INTEL-SA-00289', 'INTEL-SA-00615']);
    expect(Buffer.from(claims.reportData, 'hex').toString('latin1').startsWith('Hello, world!')).toBe(true);
    expect(claims.mrenclave).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is recognised by verifyEvidence as a quote, and in the JSON form with its collateral', async () => {
    expect((await verifyEvidence(quote, { collateral, at: AT })).tee).toBe('sgx');
    const doc = JSON.stringify({ quote: quote.toString('base64'), collateral });
    expect((await verifyEvidence(Buffer.from(doc), { at: AT })).tee).toBe('sgx');
  });

  it('refuses every single-byte change in the signed and bound parts (header, body, signature, key, QE report, QE auth data)', () => {
    const parsed = parseQuote(quote);
    const sigDataStart = SIGNED_QUOTE_LENGTH + 4;
    const boundEnd = sigDataStart + 64 + 64 + 384 + 64 + 2 + parsed.qeAuthData.length;
    const copy = Buffer.from(quote);
    const accepted: number[] = [];
    const codes = new Set<string>();
    for (let i = 0; i < boundEnd; i++) {
      copy[i] ^= 0x01;
      const code = codeOf(() => verifySgx(copy, { collateral, at: AT }));
      copy[i] ^= 0x01;
      if (code === 'accepted') accepted.push(i);
      codes.add(code);
    }
    expect(accepted).toEqual([]);
    expect([...codes]).toEqual(expect.arrayContaining(['sgx_quote_signature_invalid', 'sgx_qe_report_invalid', 'sgx_qe_binding_invalid']));
  });

  it('refuses every single-byte change in the PCK certificate chain carried in the quote', () => {
    const certStart = quote.length - parseQuote(quote).certData.length;
    const copy = Buffer.from(quote);
    for (let i = certStart - 6; i < quote.length; i++) {
      copy[i] ^= 0x01;
      expect(codeOf(() => verifySgx(copy, { collateral, at: AT })), `byte ${i}`).not.toBe('accepted');
      copy[i] ^= 0x01;
    }
  });

  it('refuses altered collateral: TCB info text, QE identity text, signatures', () => {
    const tamper = (patch: Partial<SgxCollateralInput>): string => codeOf(() => verifySgx(quote, { collateral: { ...collateral, ...patch }, at: AT }));
    expect(tamper({ tcb_info: collateral.tcb_info.replace('"SWHardeningNeeded"', '"UpToDate"') })).toBe('sgx_collateral_invalid');
    expect(tamper({ tcb_info: collateral.tcb_info + ' ' })).toBe('sgx_collateral_invalid');
    expect(tamper({ qe_identity: collateral.qe_identity.replace('"isvsvn":8', '"isvsvn":7') })).toBe('sgx_collateral_invalid');
    const flipHex = (hex: string): string => (hex[0] === '0' ? '1' : '0') + hex.slice(1);
    expect(tamper({ tcb_info_signature: flipHex(collateral.tcb_info_signature) })).toBe('sgx_collateral_invalid');
    expect(tamper({ qe_identity_signature: flipHex(collateral.qe_identity_signature) })).toBe('sgx_collateral_invalid');
    // A CRL signed by the right CA but altered: the signature over it breaks.
    expect(tamper({ pck_crl: collateral.pck_crl.slice(0, 200) + (collateral.pck_crl[200] === '0' ? '1' : '0') + collateral.pck_crl.slice(201) })).toMatch(/^crl_/);
    // The root CA CRL in the place of the PCK CRL is signed by the wrong issuer.
    expect(tamper({ pck_crl: collateral.root_ca_crl })).toBe('crl_invalid');
  });

  it('refuses collateral outside its validity window and missing collateral', () => {
    expect(codeOf(() => verifySgx(quote, { collateral, at: new Date('2025-07-20T00:00:00Z') }))).toBe('sgx_collateral_expired');
    expect(codeOf(() => verifySgx(quote, { collateral, at: new Date('2025-06-18T00:00:00Z') }))).toBe('sgx_collateral_expired');
    expect(codeOf(() => verifySgx(quote, { at: AT }))).toBe('sgx_collateral_missing');
  });

  it('refuses truncated and oversized quotes as bad input (exit 2)', () => {
    for (const length of [0, 47, 100, SIGNED_QUOTE_LENGTH, SIGNED_QUOTE_LENGTH + 4, 1000, quote.length - 1]) {
      const error = (() => {
        try {
          verifySgx(quote.subarray(0, length), { collateral, at: AT });
        } catch (e) {
          return e as ConfcomError;
        }
        return undefined;
      })();
      expect(error?.code, `length ${length}`).toBe('evidence_truncated');
      expect(error?.exitCode).toBe(ExitCode.BadInput);
    }
    expect(codeOf(() => verifySgx(Buffer.concat([quote, Buffer.alloc(1)]), { collateral, at: AT }))).toBe('evidence_oversized');
    expect(codeOf(() => verifySgx(Buffer.concat([quote, Buffer.alloc(70_000)]), { collateral, at: AT }))).toBe('evidence_oversized');
  });
});
