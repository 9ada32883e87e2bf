/**
 * The software TEE: its evidence is well formed and verifies only when the simulator is trusted, and
 * every negative path of the verifier can be driven through it (go-sev-guest's `testing` idea).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { SimulatedSnpChip, createSimulatedTee, type SimulatedTee } from '../../../src/attest/sim/index.js';
import { parseReport } from '../../../src/attest/snp/abi.js';
import { verifySnp } from '../../../src/attest/snp/verify.js';
import { verifySgx } from '../../../src/attest/sgx/verify.js';
import { parseQuote } from '../../../src/attest/sgx/abi.js';
import { verifyEvidence } from '../../../src/attest/verify.js';
import { codeOf } from './error-code.js';
import { readVcekExtensions } from '../../../src/attest/snp/vcek.js';

const trusted = { trustSimulator: true };

describe('simulated SEV-SNP', () => {
  let tee: SimulatedTee;
  beforeAll(async () => {
    tee = await createSimulatedTee();
  });

  it('produces a 1184-byte report whose chosen fields come back as verified claims', async () => {
    const reportData = Buffer.alloc(64, 0xab);
    const hostData = Buffer.alloc(32, 0x11);
    const measurement = Buffer.alloc(48, 0x22);
    const { report, certs } = await tee.snpReport({ reportData, hostData, measurement, policyDebug: true, reportedTcb: { snp: 9, microcode: 0x55 } });
    expect(report.length).toBe(1184);
    const claims = verifySnp(report, { certs, ...trusted });
    expect(claims).toMatchObject({ simulated: true, product: 'Milan', signingKey: 'vcek', version: 2 });
    expect(claims.reportData).toBe(reportData.toString('hex'));
    expect(claims.hostData).toBe(hostData.toString('hex'));
    expect(claims.measurement).toBe(measurement.toString('hex'));
    expect(claims.policy.debug).toBe(true);
    expect(claims.reportedTcb).toMatchObject({ snp: 9, microcode: 0x55 });
    expect(claims.chipId).toBe(tee.chipId);
    // The VCEK carries the TCB and chip the report names, in AMD's extension encoding.
    const ext = readVcekExtensions(new X509Certificate(certs[0]));
    expect(ext.tcb).toMatchObject({ snp: 9, microcode: 0x55 });
    expect(ext.hwId?.toString('hex')).toBe(tee.chipId);
  });

  it('verifies a VLEK-signed report through the ASVK, and refuses a VLEK report handed a VCEK', async () => {
    const { report, certs } = await tee.snpReport({ signingKey: 'vlek', reportData: Buffer.alloc(64, 4) });
    const claims = verifySnp(report, { certs, ...trusted });
    expect(claims).toMatchObject({ signingKey: 'vlek', simulated: true, reportData: '04'.repeat(64) });
    const vcekCerts = (await tee.snpReport({})).certs;
    expect(codeOf(() => verifySnp(report, { certs: vcekCerts, ...trusted }))).toBe('snp_vlek_missing');
  });

  it('is refused unless the simulator is trusted', async () => {
    const { report, certs } = await tee.snpReport({});
    expect(codeOf(() => verifySnp(report, { certs }))).toBe('simulator_not_trusted');
    await expect(verifyEvidence(report, { certs })).rejects.toMatchObject({ code: 'simulator_not_trusted', exitCode: 1 });
  });

  it('refuses a chain to an ARK that is neither pinned nor the simulator (a forged AMD chain)', async () => {
    const forged = await createSimulatedTee({ unmarked: true });
    const { report, certs } = await forged.snpReport({});
    expect(codeOf(() => verifySnp(report, { certs, ...trusted }))).toBe('snp_untrusted_root');
  });

  it('refuses a VCEK whose TCB extension differs from REPORTED_TCB', async () => {
    for (const vcekTcb of [{ bootloader: 5 }, { tee: 1 }, { snp: 23 }, { microcode: 214 }]) {
      const { report, certs } = await tee.snpReport({ vcekTcb });
      expect(codeOf(() => verifySnp(report, { certs, ...trusted }))).toBe('snp_tcb_mismatch');
    }
  });

  it("refuses a VCEK issued for another chip, another chip's chain, and an expired VCEK", async () => {
    const other = await tee.snpReport({ vcekChipId: Buffer.alloc(64, 7) });
    expect(codeOf(() => verifySnp(other.report, { certs: other.certs, ...trusted }))).toBe('snp_chip_id_mismatch');

    const second = new SimulatedSnpChip();
    const mine = await tee.snpReport({});
    const theirs = second.report({});
    // Their VCEK with my ASK and ARK: the VCEK does not verify under my ASK.
    expect(codeOf(() => verifySnp(mine.report, { certs: [theirs.certs[0], mine.certs[1], mine.certs[2]], ...trusted }))).toBe('snp_chain_invalid');
    // My report with their whole chain: the VCEK belongs to another chip.
    expect(codeOf(() => verifySnp(mine.report, { certs: theirs.certs, ...trusted }))).toBe('snp_chip_id_mismatch');

    const expired = await tee.snpReport({ vcekNotBefore: new Date('2020-01-01'), vcekNotAfter: new Date('2021-01-01') });
    expect(codeOf(() => verifySnp(expired.report, { certs: expired.certs, ...trusted }))).toBe('cert_expired');
  });

  it('checks an ARK-signed CRL: current and clean passes, a revoked ASK or a stale CRL is refused', () => {
    const chip = new SimulatedSnpChip();
    const { report, certs } = chip.report({});
    expect(codeOf(() => verifySnp(report, { certs, crls: [chip.crl()], ...trusted }))).toBe('accepted');
    expect(codeOf(() => verifySnp(report, { certs, crls: [chip.crl({ revokeAsk: true })], ...trusted }))).toBe('cert_revoked');
    const stale = chip.crl({ thisUpdate: new Date('2020-01-01'), nextUpdate: new Date('2020-02-01') });
    expect(codeOf(() => verifySnp(report, { certs, crls: [stale], ...trusted }))).toBe('crl_expired');
    // Another chip's CRL names the same issuer but is not signed by this ARK.
    expect(codeOf(() => verifySnp(report, { certs, crls: [new SimulatedSnpChip().crl()], ...trusted }))).toBe('crl_invalid');
  });

  it('refuses every single-byte change of a simulated report', async () => {
    const { report, certs } = await tee.snpReport({ reportData: Buffer.alloc(64, 1) });
    const copy = Buffer.from(report);
    for (let i = 0; i < 0x2a0; i++) {
      copy[i] ^= 0x04;
      expect(codeOf(() => verifySnp(copy, { certs, ...trusted })), `byte ${i}`).not.toBe('accepted');
      copy[i] ^= 0x04;
    }
    expect(parseReport(report).signatureAlgo).toBe(1);
  });
});

describe('simulated SGX', () => {
  let tee: SimulatedTee;
  beforeAll(async () => {
    tee = await createSimulatedTee();
  });

  it('produces a v3 quote and collateral that verify, with the chosen fields', async () => {
    const reportData = Buffer.alloc(64, 0x5a);
    const mrenclave = Buffer.alloc(32, 1);
    const mrsigner = Buffer.alloc(32, 2);
    const { quote, collateral } = await tee.sgxQuote({ reportData, mrenclave, mrsigner });
    const claims = verifySgx(quote, { collateral, ...trusted });
    expect(claims).toMatchObject({
      tee: 'sgx',
      simulated: true,
      quoteVersion: 3,
      mrenclave: mrenclave.toString('hex'),
      mrsigner: mrsigner.toString('hex'),
      reportData: reportData.toString('hex'),
      debug: false,
      tcbStatus: 'UpToDate',
      qeTcbStatus: 'UpToDate',
      advisoryIds: [],
    });
    const debug = await tee.sgxQuote({ debug: true });
    expect(verifySgx(debug.quote, { collateral: debug.collateral, ...trusted }).debug).toBe(true);
  });

  it('produces and verifies a v4 quote (QE report inside certification data type 6)', async () => {
    const { quote, collateral } = await tee.sgxQuote({ quoteVersion: 4, reportData: Buffer.alloc(64, 6) });
    expect(parseQuote(quote)).toMatchObject({ version: 4, certType: 5 });
    expect(verifySgx(quote, { collateral, ...trusted })).toMatchObject({ quoteVersion: 4, reportData: '06'.repeat(64) });
    const copy = Buffer.from(quote);
    for (let i = 0; i < copy.length; i += 3) {
      copy[i] ^= 0x01;
      expect(codeOf(() => verifySgx(copy, { collateral, ...trusted })), `byte ${i}`).not.toBe('accepted');
      copy[i] ^= 0x01;
    }
  });

  it('is refused unless the simulator is trusted', async () => {
    const { quote, collateral } = await tee.sgxQuote({});
    expect(codeOf(() => verifySgx(quote, { collateral }))).toBe('simulator_not_trusted');
  });

  it('refuses real-looking collateral from another simulated platform (different roots)', async () => {
    const other = await createSimulatedTee();
    const mine = await tee.sgxQuote({});
    const theirs = await other.sgxQuote({});
    expect(codeOf(() => verifySgx(mine.quote, { collateral: theirs.collateral, ...trusted }))).toBe('sgx_collateral_invalid');
  });
});
