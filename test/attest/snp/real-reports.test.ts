/**
 * Real SEV-SNP reports (go-sev-guest and virtee testdata, Milan) verified against the pinned AMD roots,
 * and every alteration refused with a typed code. Certificates expire, so the clock is pinned.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AttestationError } from '../../../src/attest/claims.js';
import { ConfcomError, ExitCode } from '../../../src/core/errors.js';
import { SIGNED_LENGTH, REPORT_SIZE } from '../../../src/attest/snp/abi.js';
import { verifySnp } from '../../../src/attest/snp/verify.js';
import { verifyEvidence, verifySnpReport } from '../../../src/attest/verify.js';
import { toPem } from '../../../src/attest/certs/builder.js';
import { codeOf } from '../sim/error-code.js';
import { sharedPath } from '../../helpers/shared.js';

const dir = sharedPath('attestation-vectors/snp');
const AT = new Date('2025-01-01T00:00:00Z');

interface Vector {
  report: Buffer;
  vcek: Buffer;
  askArk: Buffer;
}

function load(name: string): Vector {
  const base = join(dir as string, name);
  const reportFile = name === 'virtee-milan' ? 'report.hex' : 'report.bin';
  const raw = readFileSync(join(base, reportFile));
  return {
    report: reportFile.endsWith('.hex') ? Buffer.from(raw.toString('latin1').trim(), 'hex') : raw,
    vcek: readFileSync(join(base, 'vcek.der')),
    askArk: readFileSync(join(base, 'ask_ark.pem')),
  };
}

describe.skipIf(!dir)('real SEV-SNP reports', () => {
  let gsg: Vector;
  let virtee: Vector;
  beforeAll(() => {
    gsg = load('go-sev-guest');
    virtee = load('virtee-milan');
  });

  it('verifies the go-sev-guest report with the facts its README lists', async () => {
    const claims = await verifySnpReport(gsg.report, { certs: [gsg.vcek, gsg.askArk], at: AT });
    expect(claims).toMatchObject({ tee: 'snp', simulated: false, product: 'Milan', signingKey: 'vcek', version: 2, vmpl: 0 });
    expect(claims.policy.raw).toBe('00000000000b0000');
    expect(claims.policy.debug).toBe(true);
    expect(claims.reportData).toBe('0102030405' + '00'.repeat(59));
    expect(claims.hostData).toBe('00'.repeat(32));
    expect(claims.reportedTcb).toEqual({ bootloader: 2, tee: 0, snp: 5, microcode: 0x44, raw: '4405000000000002' });
  });

  it('verifies the virtee report from its hex text, with only the VCEK supplied (ASK and ARK are pinned)', async () => {
    const hexText = readFileSync(join(dir as string, 'virtee-milan', 'report.hex'));
    const claims = await verifySnpReport(hexText, { certs: [virtee.vcek], at: AT });
    expect(claims.policy.raw).toBe('0000000000030000');
    expect(claims.policy.debug).toBe(false);
    expect(claims.reportedTcb).toMatchObject({ bootloader: 3, tee: 0, snp: 8, microcode: 0x73 });
    expect(claims.reportData).toMatch(/^[0-9a-f]{128}$/);
    expect(claims.reportData).not.toBe('00'.repeat(64));
  });

  it('accepts the Azure form (report + THIM/IMDS vcekCert and certificateChain JSON)', async () => {
    const doc = { report: gsg.report.toString('base64'), vcekCert: toPem(gsg.vcek), certificateChain: gsg.askArk.toString('utf8') };
    const claims = await verifyEvidence(Buffer.from(JSON.stringify(doc)), { at: AT });
    expect(claims.tee).toBe('snp');
    const nested = { SnpReport: gsg.report.toString('hex'), vcek: { vcekCert: toPem(gsg.vcek), certificateChain: gsg.askArk.toString('utf8') } };
    expect((await verifyEvidence(Buffer.from(JSON.stringify(nested)), { at: AT })).tee).toBe('snp');
  });

  it('refuses every single-byte change anywhere in either report', () => {
    for (const v of [gsg, virtee]) {
      const options = { certs: [v.vcek], at: AT };
      expect(codeOf(() => verifySnp(v.report, options))).toBe('accepted');
      const copy = Buffer.from(v.report);
      const accepted: number[] = [];
      const codes = new Set<string>();
      for (let i = 0; i < REPORT_SIZE; i++) {
        copy[i] ^= 0x01;
        const code = codeOf(() => verifySnp(copy, options));
        copy[i] ^= 0x01;
        if (code === 'accepted') accepted.push(i);
        codes.add(code);
      }
      expect(accepted).toEqual([]);
      // The signed bytes fail on the signature, the TCB binding, the chip binding or the layout checks.
      expect([...codes].sort()).toEqual(
        expect.arrayContaining(['snp_signature_invalid', 'snp_signature_malformed', 'snp_tcb_mismatch', 'snp_chip_id_mismatch']),
      );
    }
  });

  it('refuses a flip of every bit value in the signed bytes of one report (xor 0x80 as well)', () => {
    const copy = Buffer.from(gsg.report);
    for (let i = 0; i < SIGNED_LENGTH; i++) {
      copy[i] ^= 0x80;
      expect(codeOf(() => verifySnp(copy, { certs: [gsg.vcek], at: AT }))).not.toBe('accepted');
      copy[i] ^= 0x80;
    }
  });

  it('refuses swapped VCEKs', () => {
    expect(codeOf(() => verifySnp(gsg.report, { certs: [virtee.vcek], at: AT }))).toBe('snp_tcb_mismatch');
    expect(codeOf(() => verifySnp(virtee.report, { certs: [gsg.vcek], at: AT }))).toBe('snp_tcb_mismatch');
  });

  it('refuses a chain to the wrong product ARK, and a missing VCEK', () => {
    expect(codeOf(() => verifySnp(gsg.report, { certs: [gsg.vcek], at: AT, product: 'Genoa' }))).toBe('snp_chain_invalid');
    expect(codeOf(() => verifySnp(gsg.report, { certs: [gsg.askArk], at: AT }))).toBe('snp_vcek_missing');
  });

  it('checks certificate validity at the given time', () => {
    expect(codeOf(() => verifySnp(gsg.report, { certs: [gsg.vcek], at: new Date('2029-09-25T00:00:00Z') }))).toBe('cert_expired');
    expect(codeOf(() => verifySnp(gsg.report, { certs: [gsg.vcek], at: new Date('2022-09-23T00:00:00Z') }))).toBe('cert_not_yet_valid');
  });

  it('refuses truncated and oversized input as bad input (exit 2)', async () => {
    for (const [input, code] of [
      [gsg.report.subarray(0, REPORT_SIZE - 1), 'evidence_truncated'],
      [gsg.report.subarray(0, 0x2a0), 'evidence_truncated'],
      [Buffer.concat([gsg.report, Buffer.alloc(1)]), 'evidence_oversized'],
    ] as const) {
      const error = await verifySnpReport(input, { certs: [gsg.vcek], at: AT }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfcomError);
      expect((error as ConfcomError).code).toBe(code);
      expect((error as ConfcomError).exitCode).toBe(ExitCode.BadInput);
    }
  });

  it('reports verification failures as AttestationErrors (exit 1)', async () => {
    const copy = Buffer.from(gsg.report);
    copy[0x50] ^= 1;
    const error = await verifySnpReport(copy, { certs: [gsg.vcek], at: AT }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AttestationError);
    expect((error as AttestationError).exitCode).toBe(ExitCode.CheckFailed);
  });
});
