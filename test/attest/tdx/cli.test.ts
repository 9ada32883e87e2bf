/**
 * `confcom attest verify` with TDX quotes: simulated v5 evidence verifies (exit 0); an OutOfDate TDX
 * module is refused without --allow-tcb; the real dcap-qvl quote reaches the TCB judgement only with
 * --allow-missing-crls (its collateral has none) and is refused there (exit 1).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimulatedTdxPlatform } from '../../../src/attest/sim/tdx.js';
import { runConfcom } from '../../helpers/cli.js';

const startup = await runConfcom(['--version']);
const cliReady = process.env.CI === 'true' || startup.code === 0;
if (!cliReady) process.stderr.write('NOTICE: skipping attest TDX CLI tests, the CLI does not start\n');

const dir = mkdtempSync(join(tmpdir(), 'confcom-attest-tdx-'));
const platform = new SimulatedTdxPlatform();
const errorCode = (stderr: string): string => (JSON.parse(stderr) as { error: { code: string } }).error.code;

function evidence(name: string, moduleSvn?: number): string {
  const { quote, collateral } = platform.tdxQuote({ quoteVersion: 5, moduleSvn });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ quote: quote.toString('base64'), collateral }));
  return file;
}

describe.skipIf(!cliReady)('attest verify with TDX quotes', () => {
  it('verifies simulated v5 evidence, refuses an OutOfDate module unless --allow-tcb names it', async () => {
    const ok = await runConfcom(['attest', 'verify', '--evidence', evidence('ok'), '--trust-simulator', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ tcbStatus: ['UpToDate', 'UpToDate'] });
    const old = evidence('old', 1);
    const refused = await runConfcom(['attest', 'verify', '--evidence', old, '--trust-simulator', '--json']);
    expect(refused.code).toBe(1);
    expect(errorCode(refused.stderr)).toBe('tcb_out_of_date');
    const allowed = await runConfcom(['attest', 'verify', '--evidence', old, '--trust-simulator', '--allow-tcb', 'out-of-date', '--json']);
    expect(allowed.code, allowed.stderr).toBe(0);
  });

  it('takes the real quote to its TCB judgement only with --allow-missing-crls', async () => {
    const fixtures = new URL('../../fixtures/attest/tdx-dcap-qvl/', import.meta.url);
    const file = join(dir, 'real.json');
    writeFileSync(file, JSON.stringify({
      quote: readFileSync(new URL('tdx-quote.hex', fixtures), 'utf8').trim().slice(2),
      collateral: JSON.parse(readFileSync(new URL('tdx_quote_collateral.json', fixtures), 'utf8')) as unknown,
    }));
    const strict = await runConfcom(['attest', 'verify', '--evidence', file, '--at', '2025-03-20T00:00:00Z', '--json']);
    expect(strict.code).toBe(2);
    expect(errorCode(strict.stderr)).toBe('sgx_collateral_malformed');
    const judged = await runConfcom(['attest', 'verify', '--evidence', file, '--at', '2025-03-20T00:00:00Z', '--allow-missing-crls', '--json']);
    expect(judged.code).toBe(1);
    expect(errorCode(judged.stderr)).toBe('tdx_tcb_unrecognized');
  });
});
