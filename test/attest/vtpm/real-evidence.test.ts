/**
 * trustee's real Azure vTPM evidence (test/fixtures/attest/az-snp-vtpm, Apache-2.0): the HCL report's SNP
 * report verifies with its VCEK to AMD's pinned roots, the runtime data hashes into REPORT_DATA, its AK
 * signs the TPM quote. Every edit of the runtime data and of the quote is refused.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IGVM_HEADER_SIZE, IGVM_OFFSET } from '../../../src/attest/az-snp-vtpm/abi.js';
import type { AzSnpVtpmClaims } from '../../../src/attest/az-snp-vtpm/claims.js';
import { azSnpVtpm } from '../../../src/attest/az-snp-vtpm/index.js';
import { verifyEvidence, verifyEvidenceAs } from '../../../src/attest/verify.js';
import { codeOfAsync } from '../sim/error-code.js';

const FIXTURE = new URL('../../fixtures/attest/az-snp-vtpm/evidence-v1.json', import.meta.url);
const text = readFileSync(FIXTURE);
const doc = JSON.parse(text.toString('utf8')) as { hcl_report: string; tpm_quote: { message: string; signature: string; pcrs: string[] }; vcek: string };
const AT = new Date('2026-06-01T00:00:00Z');
const verify = async (d: unknown): Promise<AzSnpVtpmClaims> => azSnpVtpm.verify(Buffer.from(JSON.stringify(d)), { at: AT });

describe('real Azure vTPM evidence (trustee evidence-v1.json)', () => {
  it('decodes to a 2,600-byte HCL report whose SNP report at 0x20 is a Milan version 3 report', () => {
    const hcl = Buffer.from(doc.hcl_report, 'base64url');
    expect(hcl.length).toBe(2600);
    expect(hcl.subarray(0, 4).toString('latin1')).toBe('HCLA');
    expect(hcl.readUInt32LE(0x20)).toBe(3);
    expect(hcl.readUInt32LE(IGVM_OFFSET + 16)).toBe(1110);
  });

  it('verifies through the registry: nonce "challenge", 24 PCRs, Milan SNP claims, UpToDate', async () => {
    for (const claims of [
      (await verify(doc)) as AzSnpVtpmClaims,
      (await verifyEvidence(text, { at: AT })) as AzSnpVtpmClaims,
      (await verifyEvidenceAs('az-snp-vtpm', text, { at: AT })) as AzSnpVtpmClaims,
    ]) {
      expect(claims.tee).toBe('az-snp-vtpm');
      expect(claims.simulated).toBe(false);
      expect(Buffer.from(claims.nonce, 'hex').toString('latin1')).toBe('challenge');
      expect(claims.pcrs['7']).toBe(doc.tpm_quote.pcrs[7]);
      expect(claims.snp).toMatchObject({ product: 'Milan', vmpl: 0, reportedTcb: { bootloader: 4, snp: 24, microcode: 219 } });
      expect((claims.runtimeData['vm-configuration'] as Record<string, unknown>)['secure-boot']).toBe(true);
      expect(azSnpVtpm.tcbStatus(claims)).toEqual(['UpToDate']);
    }
  });

  it('refuses every changed runtime-data byte', async () => {
    const hcl = Buffer.from(doc.hcl_report, 'base64url');
    const start = IGVM_OFFSET + IGVM_HEADER_SIZE;
    for (let at = start; at < start + 1110; at += 37) {
      const edited = Buffer.from(hcl);
      edited[at] ^= 0x04;
      expect(await codeOfAsync(() => verify({ ...doc, hcl_report: edited.toString('base64url') })), `runtime byte ${at}`).toBe('vtpm_runtime_data_mismatch');
    }
  });

  it('refuses every changed quote byte and a changed signature', async () => {
    const message = Buffer.from(doc.tpm_quote.message, 'hex');
    for (let at = 0; at < message.length; at++) {
      const edited = Buffer.from(message);
      edited[at] ^= 0x01;
      const code = await codeOfAsync(() => verify({ ...doc, tpm_quote: { ...doc.tpm_quote, message: edited.toString('hex') } }));
      expect(code, `quote byte ${at}`).toBe('vtpm_quote_signature_invalid');
    }
    const signature = Buffer.from(doc.tpm_quote.signature, 'hex');
    signature[100] ^= 0x01;
    expect(await codeOfAsync(() => verify({ ...doc, tpm_quote: { ...doc.tpm_quote, signature: signature.toString('hex') } }))).toBe('vtpm_quote_signature_invalid');
  });

  it('refuses a changed SNP report byte (the VCEK signature) and a changed PCR', async () => {
    const hcl = Buffer.from(doc.hcl_report, 'base64url');
    hcl[0x20 + 0x90] ^= 0x01; // MEASUREMENT
    expect(await codeOfAsync(() => verify({ ...doc, hcl_report: hcl.toString('base64url') }))).toMatch(/signature/);
    const pcrs = [...doc.tpm_quote.pcrs];
    pcrs[0] = pcrs[1];
    expect(await codeOfAsync(() => verify({ ...doc, tpm_quote: { ...doc.tpm_quote, pcrs } }))).toBe('vtpm_pcr_mismatch');
  });
});
