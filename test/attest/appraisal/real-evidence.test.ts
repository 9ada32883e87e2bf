/** The default appraisal over real hardware evidence: go-sev-guest's Milan report allows debugging. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedPath } from '../../helpers/shared.js';
import { verifySnpReport } from '../../../src/attest/verify.js';
import { appraise, parseReferenceValues } from '../../../src/attest/appraisal/index.js';
import { tokenClaims } from '../../../src/attest/token/claims.js';

const dir = sharedPath('attestation-vectors/snp/go-sev-guest');

describe.skipIf(!dir)('default appraisal of real SEV-SNP evidence', () => {
  it('go-sev-guest report (guest policy 0xb0000, debug allowed): verified, then refused for debug', async () => {
    const claims = await verifySnpReport(readFileSync(join(dir!, 'report.bin')), {
      certs: [readFileSync(join(dir!, 'vcek.der')), readFileSync(join(dir!, 'ask_ark.pem'))],
      at: new Date('2024-01-01T00:00:00Z'),
    });
    const result = await appraise(claims);
    expect(result.simulated).toBe(false);
    expect(result.claims).toMatchObject({ tee: 'snp', vmpl: 0, host_data: '00'.repeat(32), policy: { debug: true } });
    expect(result.claims.tee === 'snp' && result.claims.reported_tcb).toMatchObject({ bootloader: 2, tee: 0, snp: 5, microcode: 0x44 });
    expect(result.decision.allow).toBe(false);
    expect(result.decision.reasons).toEqual(['debugging is allowed by the guest policy: the host can read and change guest memory']);
    // Allowing debug explicitly (a lab setting) lets it through; a minimum TCB above it does not.
    expect((await appraise(claims, { reference: parseReferenceValues({ snp: { allow_debug: true } }) })).decision.allow).toBe(true);
    const strict = await appraise(claims, { reference: parseReferenceValues({ snp: { allow_debug: true, min_tcb: { snp: 8 } } }) });
    expect(strict.decision.reasons).toEqual(['reported TCB snp SPL 5 is below the minimum 8']);
    // The Azure-compatible claims of this evidence.
    const token = tokenClaims(result, undefined);
    expect(token).toMatchObject({
      'x-ms-attestation-type': 'sevsnpvm',
      'x-ms-sevsnpvm-is-debuggable': true,
      'x-ms-sevsnpvm-bootloader-svn': 2,
      'x-ms-sevsnpvm-snpfw-svn': 5,
      'x-ms-sevsnpvm-microcode-svn': 0x44,
      'x-ms-sevsnpvm-reportdata': '0102030405' + '00'.repeat(59),
      'x-confcom-simulated': false,
    });
  });
});
