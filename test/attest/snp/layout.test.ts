/**
 * Byte layouts without crypto: TCB_VERSION for Milan/Genoa and Turin, guest policy bits, and the shipped
 * AMD certificates compared with AMD's own files and pinned fingerprints.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AMD_CERTS } from '../../../src/attest/certs/amd-certs.js';
import { amdRoots } from '../../../src/attest/certs/roots.js';
import { parseCertificates, sha256Hex } from '../../../src/attest/certs/x509.js';
import { decodePolicy, decodeTcb, encodeTcb, parseReport, serialiseReport, withSignature } from '../../../src/attest/snp/abi.js';
import { sharedPath } from '../../helpers/shared.js';

describe('TCB_VERSION', () => {
  it('splits Milan/Genoa and Turin layouts differently', () => {
    expect(decodeTcb(0x4405000000000002n, 'milan')).toEqual({ bootloader: 2, tee: 0, snp: 5, microcode: 0x44, raw: '4405000000000002' });
    // Turin: FMC, bootloader, TEE, SNP in bytes 0-3, microcode in byte 7.
    expect(decodeTcb(0x4800000003020401n, 'turin')).toEqual({ fmc: 1, bootloader: 4, tee: 2, snp: 3, microcode: 0x48, raw: '4800000003020401' });
  });

  it('encodes what it decodes, for both layouts', () => {
    for (const layout of ['milan', 'turin'] as const) {
      const tcb = { bootloader: 9, tee: 1, snp: 23, microcode: 213, ...(layout === 'turin' ? { fmc: 2 } : {}) };
      const { raw: _raw, ...decoded } = decodeTcb(encodeTcb(tcb, layout), layout);
      expect(decoded).toEqual(tcb);
    }
  });
});

describe('guest policy and report layout', () => {
  it('reads the policy bits the ABI defines', () => {
    expect(decodePolicy(0xb0000n)).toMatchObject({ smt: true, debug: true, migrateMa: false, singleSocket: false });
    expect(decodePolicy(0x1f0102n)).toMatchObject({ abiMinor: 2, abiMajor: 1, smt: true, migrateMa: true, debug: true, singleSocket: true });
  });

  it('round-trips a report through serialise / sign / parse (R and S as 72-byte little-endian fields)', () => {
    const rs = Buffer.from(Array.from({ length: 96 }, (_, i) => i + 1));
    const report = withSignature(serialiseReport({ version: 3, reportData: Buffer.alloc(64, 3), cpuidFamily: 0x1a, cpuidModel: 2, reportedTcb: 7n }), rs);
    const parsed = parseReport(report);
    expect(parsed.signature.equals(rs)).toBe(true);
    expect(report[0x2a0]).toBe(48); // the last byte of big-endian R comes first
    expect(parsed).toMatchObject({ version: 3, cpuidFamily: 0x1a, cpuidModel: 2, reportedTcb: 7n });
    const v4 = Buffer.from(report);
    v4.writeUInt32LE(4, 0);
    expect(() => parseReport(v4)).toThrow(/version 4 is not supported/);
  });
});

const roots = sharedPath('attestation-vectors/amd-roots');

describe.skipIf(!roots)('shipped AMD certificates', () => {
  it('are exactly AMD ASK, ARK and ASVK of each product, with the ARK fingerprints pinned', () => {
    const pinned = {
      Milan: '69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd',
      Genoa: '4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1',
      Turin: '1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a',
    };
    for (const product of ['Milan', 'Genoa', 'Turin'] as const) {
      const [ask, ark, asvk] = parseCertificates(readFileSync(join(roots as string, `${product.toLowerCase()}.pem`)));
      const shipped = amdRoots(product);
      expect(shipped.ark.raw.equals(ark.raw)).toBe(true);
      expect(shipped.ask.raw.equals(ask.raw)).toBe(true);
      expect(shipped.asvk.raw.equals(asvk.raw)).toBe(true);
      expect(sha256Hex(shipped.ark.raw)).toBe(pinned[product]);
      expect(AMD_CERTS[product].arkFingerprint).toBe(pinned[product]);
    }
  });
});
