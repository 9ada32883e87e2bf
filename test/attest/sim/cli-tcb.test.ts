/**
 * `confcom attest verify` judging the TCB without a policy (OutOfDate/Revoked refused unless
 * --allow-tcb names them) and checking the REPORT_DATA binding of --runtime-data.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSimulatedTee } from '../../../src/attest/sim/index.js';
import { runConfcom } from '../../helpers/cli.js';

const startup = await runConfcom(['--version']);
const cliReady = process.env.CI === 'true' || startup.code === 0;
if (!cliReady) process.stderr.write('NOTICE: skipping attest CLI TCB tests, the CLI does not start\n');

const dir = mkdtempSync(join(tmpdir(), 'confcom-attest-tcb-'));
const tee = await createSimulatedTee();

async function sgxEvidence(name: string, tcbStatus: string, reportData = Buffer.alloc(64, 1)): Promise<string> {
  const { quote, collateral } = await tee.sgxQuote({ reportData, tcbStatus });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ quote: quote.toString('base64'), collateral }));
  return file;
}

const errorCode = (stderr: string): string => (JSON.parse(stderr) as { error: { code: string } }).error.code;

describe.skipIf(!cliReady)('attest verify judges the TCB and the runtime data', () => {
  it('refuses OutOfDate and Revoked platforms without --policy (exit 1), accepts them when --allow-tcb names them', async () => {
    const outOfDate = await sgxEvidence('ood', 'OutOfDate');
    const refused = await runConfcom(['attest', 'verify', '--evidence', outOfDate, '--trust-simulator', '--json']);
    expect(refused.code).toBe(1);
    expect(errorCode(refused.stderr)).toBe('tcb_out_of_date');
    const wrongAllow = await runConfcom(['attest', 'verify', '--evidence', outOfDate, '--trust-simulator', '--allow-tcb', 'revoked', '--json']);
    expect(wrongAllow.code).toBe(1);
    const allowed = await runConfcom(['attest', 'verify', '--evidence', outOfDate, '--trust-simulator', '--allow-tcb', 'out-of-date', '--json']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(JSON.parse(allowed.stdout).tcbStatus).toEqual(['OutOfDate', 'UpToDate']);

    const upToDate = await runConfcom(['attest', 'verify', '--evidence', await sgxEvidence('ok', 'UpToDate'), '--trust-simulator']);
    expect(upToDate.code, upToDate.stderr).toBe(0);
    const hardening = await runConfcom(['attest', 'verify', '--evidence', await sgxEvidence('swh', 'SWHardeningNeeded'), '--trust-simulator']);
    expect(hardening.code, hardening.stderr).toBe(0);
  });

  it('rejects an unknown --allow-tcb name as a usage error (exit 2)', async () => {
    const r = await runConfcom(['attest', 'verify', '--evidence', await sgxEvidence('any', 'UpToDate'), '--trust-simulator', '--allow-tcb', 'fine']);
    expect(r.code).toBe(2);
  });

  it('--runtime-data: exit 0 when REPORT_DATA holds its SHA-256 or SHA-384, exit 1 when it does not', async () => {
    const runtime = Buffer.from('{"nonce":"abc","tee-pubkey":{}}');
    const runtimeFile = join(dir, 'runtime.json');
    writeFileSync(runtimeFile, runtime);
    for (const hash of ['sha256', 'sha384'] as const) {
      const digest = createHash(hash).update(runtime).digest();
      const evidence = await sgxEvidence(`rd-${hash}`, 'UpToDate', Buffer.concat([digest, Buffer.alloc(64 - digest.length)]));
      const ok = await runConfcom(['attest', 'verify', '--evidence', evidence, '--trust-simulator', '--runtime-data', runtimeFile, '--json']);
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout).runtimeDataBinding).toBe(hash);
    }
    const other = join(dir, 'other.json');
    writeFileSync(other, Buffer.from('{"nonce":"abd","tee-pubkey":{}}'));
    const digest = createHash('sha256').update(runtime).digest();
    const evidence = await sgxEvidence('rd-bad', 'UpToDate', Buffer.concat([digest, Buffer.alloc(32)]));
    const bad = await runConfcom(['attest', 'verify', '--evidence', evidence, '--trust-simulator', '--runtime-data', other, '--json']);
    expect(bad.code).toBe(1);
    expect(errorCode(bad.stderr)).toBe('report_data_mismatch');
  });
});
