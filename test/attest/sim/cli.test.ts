/**
 * `confcom attest verify` as a user runs it: exit 0 verified, 1 refused (verification or appraisal),
 * 2 bad input; --json prints the claims; --at pins the clock; --policy appraises.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSimulatedTee } from '../../../src/attest/sim/index.js';
import { REPO_ROOT, runConfcom } from '../../helpers/cli.js';
import { sharedPath } from '../../helpers/shared.js';

const vectors = sharedPath('attestation-vectors');
const policy = join(REPO_ROOT, 'test/fixtures/attest/no-debug.rego');
// The whole CLI loads every part; while a part is being rebuilt elsewhere it may not start. Outside CI
// that skips these tests with the reason; under CI it is a failure like any other.
const startup = await runConfcom(['--version']);
const cliReady = process.env.CI === 'true' || startup.code === 0;
if (!cliReady) process.stderr.write(`NOTICE: skipping attest CLI tests, the CLI does not start: ${startup.stderr.split('\n').find((l) => l.includes('Error')) ?? ''}\n`);

describe.skipIf(!cliReady)('confcom attest verify', () => {
  it.skipIf(!vectors)('verifies the real SEV-SNP report and prints its claims as JSON (exit 0)', async () => {
    const dir = join(vectors as string, 'snp/go-sev-guest');
    const r = await runConfcom(['attest', 'verify', '--evidence', join(dir, 'report.bin'), '--cert', join(dir, 'vcek.der'), '--cert', join(dir, 'ask_ark.pem'), '--at', '2025-01-01T00:00:00Z', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { verified: boolean; claims: { tee: string; reportedTcb: { raw: string }; policy: { debug: boolean } } };
    expect(out.verified).toBe(true);
    expect(out.claims.tee).toBe('snp');
    expect(out.claims.reportedTcb.raw).toBe('4405000000000002');
    expect(out.claims.policy.debug).toBe(true);
  });

  it.skipIf(!vectors)('verifies the real SGX quote with --at inside the collateral window, and refuses it outside (exit 1)', async () => {
    const dir = join(vectors as string, 'sgx/dcap-qvl');
    const args = ['attest', 'verify', '--evidence', join(dir, 'quote.bin'), '--collateral', join(dir, 'collateral.json')];
    const ok = await runConfcom([...args, '--at', '2025-07-01T00:00:00Z']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('ConfigurationAndSWHardeningNeeded (INTEL-SA-00289, INTEL-SA-00615)');
    const late = await runConfcom([...args, '--at', '2026-01-01T00:00:00Z', '--json']);
    expect(late.code).toBe(1);
    expect(JSON.parse(late.stderr).error.code).toBe('sgx_collateral_expired');
  });

  it.skipIf(!vectors)('appraises with --policy: the debug-enabled report is denied (exit 1), the other allowed', async () => {
    const snp = join(vectors as string, 'snp');
    const denied = await runConfcom(['attest', 'verify', '--evidence', join(snp, 'go-sev-guest/report.bin'), '--cert', join(snp, 'go-sev-guest/vcek.der'), '--at', '2025-01-01', '--policy', policy]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('appraisal_denied');
    const allowed = await runConfcom(['attest', 'verify', '--evidence', join(snp, 'virtee-milan/report.hex'), '--cert', join(snp, 'virtee-milan/vcek.der'), '--at', '2025-01-01', '--policy', policy]);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain('allowed');
  });

  it('refuses simulator evidence unless --trust-simulator is given, and marks it simulated', async () => {
    const tee = await createSimulatedTee();
    const { report, certs } = await tee.snpReport({ reportData: Buffer.alloc(64, 9) });
    const dir = mkdtempSync(join(tmpdir(), 'confcom-attest-'));
    const evidence = join(dir, 'evidence.json');
    writeFileSync(evidence, JSON.stringify({ report: report.toString('base64'), certs: certs.map((c) => `-----BEGIN CERTIFICATE-----\n${c.toString('base64')}\n-----END CERTIFICATE-----\n`) }));
    const refused = await runConfcom(['attest', 'verify', '--evidence', evidence, '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr).error.code).toBe('simulator_not_trusted');
    const trusted = await runConfcom(['attest', 'verify', '--evidence', evidence, '--trust-simulator', '--json']);
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(JSON.parse(trusted.stdout).claims.simulated).toBe(true);
  });

  it('exits 2 on bad input: a missing file, unrecognised evidence, a bad --at', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'confcom-attest-'));
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, Buffer.alloc(300, 0xee));
    for (const args of [
      ['--evidence', join(dir, 'missing.bin')],
      ['--evidence', junk],
      ['--evidence', junk, '--at', 'yesterday'],
    ]) {
      const r = await runConfcom(['attest', 'verify', ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
    }
  });
});
