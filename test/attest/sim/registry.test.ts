/** The TEE registry: one module per kind, names and aliases unique, claims routed by their `tee`. */
import { describe, expect, it } from 'vitest';
import { normalizeClaims } from '../../../src/attest/appraisal/index.js';
import { findTee, sniffTee, teeModules, teeOf } from '../../../src/attest/registry.js';
import { createSimulatedTee } from '../../../src/attest/sim/index.js';
import { describeClaims, verifyEvidence, verifyEvidenceAs } from '../../../src/attest/verify.js';

describe('TEE registry', () => {
  it('has unique names and aliases, and finds modules by either', () => {
    const names = teeModules().flatMap((m) => [m.name, ...m.aliases]);
    expect(new Set(names).size).toBe(names.length);
    expect(findTee('amd-sev-snp')?.name).toBe('snp');
    expect(findTee('intel-sgx')?.name).toBe('sgx');
    expect(findTee('nope')).toBeUndefined();
  });

  it('routes simulated evidence of every kind to its module: sniffing, claims, normalising, summary', async () => {
    const tee = await createSimulatedTee();
    const { report, certs } = await tee.snpReport({ reportData: Buffer.alloc(64, 3) });
    const { quote, collateral } = await tee.sgxQuote({ reportData: Buffer.alloc(64, 4) });
    expect(sniffTee(report)?.name).toBe('snp');
    expect(sniffTee(quote)?.name).toBe('sgx');
    const snp = await verifyEvidence(report, { certs, trustSimulator: true });
    const sgx = await verifyEvidenceAs('intel-sgx', quote, { collateral, trustSimulator: true });
    for (const [claims, name, byte] of [[snp, 'snp', '03'], [sgx, 'sgx', '04']] as const) {
      expect(claims.tee).toBe(name);
      expect(teeOf(claims).name).toBe(name);
      const normalized = normalizeClaims(claims);
      expect(normalized.tee).toBe(name);
      expect(normalized.report_data).toBe(byte.repeat(64));
      expect(normalizeClaims(normalized)).toBe(normalized);
      expect(describeClaims(claims).summary[0]).toMatch(/^verified: /);
    }
    await expect(verifyEvidenceAs('amd-sev-snp', quote, { trustSimulator: true })).rejects.toThrow();
  });
});
