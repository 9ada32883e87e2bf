/**
 * Azure vTPM evidence (az-snp-vtpm). The TPM quote layout is checked against the real quote in
 * trustee's deps/verifier/test_data/az-snp-vtpm/evidence-v1.json (Apache-2.0; its message and PCRs are
 * copied below as hex). The whole chain (HCL report, runtime-data hash, AK, quote) is exercised with
 * simulator-made evidence: every edit of the runtime data, the quote, a PCR or the signature is refused.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IGVM_OFFSET, IGVM_HEADER_SIZE, parseTpmsAttest } from '../../../src/attest/az-snp-vtpm/abi.js';
import { azSnpVtpm } from '../../../src/attest/az-snp-vtpm/index.js';
import { simulateAzVtpm } from '../../../src/attest/az-snp-vtpm/sim.js';
import type { AzSnpVtpmClaims } from '../../../src/attest/az-snp-vtpm/claims.js';
import { SimulatedSnpChip } from '../../../src/attest/sim/snp.js';
import type { TeeVerifyOptions } from '../../../src/attest/registry.js';
import { codeOfAsync } from '../sim/error-code.js';

// trustee evidence-v1.json, tpm_quote.message and tpm_quote.pcrs (a real Azure CVM's vTPM).
const REAL_MESSAGE =
  'ff54434780180022000bbf15d1053b33c81c80e3f9892b1f359474102661abfabf2889dbbca9ab2b445900096368616c6c656e67650000000000359bae000000020000000001202003120012000300000001000b03ffffff0020cfa3a9112493e8c8741c1d895ced6d05a9ea19a24a02a44a8b02eaf22a1b143f';
const Z = '0'.repeat(64);
const F = 'f'.repeat(64);
const REAL_PCRS = [
  'e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48dced',
  '7d81f145b4e06122a02048a39c4eb5832c3e4dd1d13abef1d802f5ad8d4f26e5',
  '3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969',
  '3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969',
  'eee70c86ea856a27719a2127d6090f02e100e2947c16a0d6a355f7294382992f',
  '8f45749bf76ed2929377ba7c0c49df91a51ebefa4c261e6ea18676650171cb8c',
  '560c94915ec0d8a2e8144ac18b44ac6e6a6695e6144fe27355bd50fc4b5ed8f4',
  '3b20e022416fdf61d72e4da32b4354781be3de0608116976d28ffdad8c341d2a',
  Z,
  '539953cab86d2b3d2fee41dd7e2e698730a5fcf2ce5fe3b9bd9a4efce5e0e4d1',
  '2a4cb11d5a73f560b9fb42faa2da165562c9499051fddc79979e6da8d33b7f22',
  Z,
  'f1a142c53586e7e2223ec74e5f4d1a4942956b1fd9ac78fafcdf85117aa345da',
  Z,
  '306f9d8b94f17d93dc6e7cf8f5c79d652eb4c6c4d13de2dddc24af416e13ecaf',
  Z, Z, F, F, F, F, F, F, Z,
];

describe('Azure vTPM evidence', () => {
  it('reads the real TPM quote: nonce "challenge" in extraData, PCRs 0-23, digest of the real PCR values', () => {
    const quote = parseTpmsAttest(Buffer.from(REAL_MESSAGE, 'hex'));
    expect(quote.extraData.toString('latin1')).toBe('challenge');
    expect(quote.selections).toEqual([{ hash: 0x000b, pcrs: Array.from({ length: 24 }, (_, i) => i) }]);
    const digest = createHash('sha256').update(Buffer.concat(REAL_PCRS.map((p) => Buffer.from(p, 'hex')))).digest();
    expect(digest.equals(quote.pcrDigest)).toBe(true);
    expect(() => parseTpmsAttest(Buffer.concat([Buffer.from(REAL_MESSAGE, 'hex'), Buffer.from([0])]))).toThrow(/after its pcrDigest/);
  });

  const chip = new SimulatedSnpChip();
  const nonce = createHash('sha256').update('kbs nonce').digest();
  const trusted = { trustSimulator: true };

  async function sample(): Promise<{ doc: Record<string, unknown>; certs: Buffer[] }> {
    const { evidence, certs } = await simulateAzVtpm(chip, { nonce });
    return { doc: JSON.parse(evidence.toString()) as Record<string, unknown>, certs };
  }
  const verify = (doc: Record<string, unknown>, certs: Buffer[], options: TeeVerifyOptions = trusted) => azSnpVtpm.verify(Buffer.from(JSON.stringify(doc)), { ...options, certs });

  it('verifies simulated evidence end to end and reports the nonce, PCRs and SNP claims', async () => {
    const { doc, certs } = await sample();
    const claims = (await verify(doc, certs)) as AzSnpVtpmClaims;
    expect(claims).toMatchObject({ tee: 'az-snp-vtpm', simulated: true, nonce: nonce.toString('hex') });
    expect(claims.reportData.startsWith(nonce.toString('hex'))).toBe(true);
    expect(Object.keys(claims.pcrs)).toHaveLength(24);
    expect(claims.snp.tee).toBe('snp');
    expect(azSnpVtpm.normalize(claims).snp.tee).toBe('snp');
    expect(await codeOfAsync(async () => verify(doc, certs, {}))).toBe('simulator_not_trusted');
  });

  it('refuses a changed runtime-data byte, a changed quote byte, a changed PCR, a changed signature', async () => {
    const { doc, certs } = await sample();
    const hcl = Buffer.from(doc.hcl_report as string, 'base64url');
    const quote = doc.tpm_quote as { message: string; pcrs: string[]; signature: string };
    const runtimeStart = IGVM_OFFSET + IGVM_HEADER_SIZE;
    const runtimeLength = hcl.readUInt32LE(IGVM_OFFSET + 16);
    for (const at of [runtimeStart, runtimeStart + Math.floor(runtimeLength / 2), runtimeStart + runtimeLength - 1]) {
      const edited = Buffer.from(hcl);
      edited[at] ^= 0x01;
      expect(await codeOfAsync(async () => verify({ ...doc, hcl_report: edited.toString('base64url') }, certs)), `runtime byte ${at}`).toBe('vtpm_runtime_data_mismatch');
    }
    const message = Buffer.from(quote.message, 'hex');
    for (let at = 0; at < message.length; at++) {
      const edited = Buffer.from(message);
      edited[at] ^= 0x01;
      const code = await codeOfAsync(async () => verify({ ...doc, tpm_quote: { ...quote, message: edited.toString('hex') } }, certs));
      expect(code, `quote byte ${at}`).toBe('vtpm_quote_signature_invalid');
    }
    const pcrs = [...quote.pcrs];
    pcrs[7] = 'ab'.repeat(32);
    expect(await codeOfAsync(async () => verify({ ...doc, tpm_quote: { ...quote, pcrs } }, certs))).toBe('vtpm_pcr_mismatch');
    const signature = Buffer.from(quote.signature, 'hex');
    signature[10] ^= 0x80;
    expect(await codeOfAsync(async () => verify({ ...doc, tpm_quote: { ...quote, signature: signature.toString('hex') } }, certs))).toBe('vtpm_quote_signature_invalid');
    const trailing = Buffer.concat([hcl, Buffer.from([1])]);
    expect(await codeOfAsync(async () => verify({ ...doc, hcl_report: trailing.toString('base64url') }, certs))).toBe('evidence_malformed');
  });
});
