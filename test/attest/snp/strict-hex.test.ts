/** Hex text of a real report: exactly the report's digits (whitespace allowed) or refused. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyEvidence, verifySnpReport } from '../../../src/attest/verify.js';
import { codeOfAsync as codeOf } from '../sim/error-code.js';
import { sharedPath } from '../../helpers/shared.js';

const dir = sharedPath('attestation-vectors/snp/virtee-milan');
const AT = new Date('2025-01-01T00:00:00Z');


// vitest runs a skipped suite's body to collect it, and this body reads the vectors: so no suite without them.
if (!dir) describe.skip('hex reports are read strictly', () => it('needs ../shared/attestation-vectors', () => undefined));
else describe('hex reports are read strictly', () => {
  const base = dir as string;
  const hex = readFileSync(join(base, 'report.hex'), 'latin1').trim();
  const certs = [readFileSync(join(base, 'vcek.der'))];

  it('verifies the exact hex text, also line-wrapped', async () => {
    expect((await verifySnpReport(Buffer.from(hex), { certs, at: AT })).tee).toBe('snp');
    const wrapped = hex.replace(/(.{64})/g, '$1\n');
    expect((await verifyEvidence(Buffer.from(wrapped), { certs, at: AT })).tee).toBe('snp');
  });

  it.each([
    ['an odd trailing digit', '0'],
    ['two trailing digits', '00'],
    ['trailing letters', 'zz'],
    ['a trailing NUL', '\0'],
    ['trailing text after a newline', '\nextra'],
  ])('refuses %s, through both entry points', async (_name, garbage) => {
    const text = Buffer.from(hex + garbage, 'latin1');
    for (const verify of [verifySnpReport, verifyEvidence]) {
      const code = await codeOf(() => verify(text, { certs, at: AT }));
      expect(code, `${JSON.stringify(garbage)}`).toMatch(/^evidence_(malformed|oversized|unrecognized)$/);
    }
  });
});
