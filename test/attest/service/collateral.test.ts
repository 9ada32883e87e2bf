/**
 * The running service verifies at its "now" with collateral it fetched: `confcom serve attestation
 * --pccs-url` against a fake Intel PCS serving the real collateral of ../shared/attestation-vectors, and
 * the real SGX quote of the same vectors posted in MAA's AttestSgxEnclave form.
 *
 * The recorded collateral is valid 2025-06-19 .. 2025-07-19 only, so at today's date the service refuses
 * it as expired (asserted below). To show acceptance the service is started with `--test-clock`, a flag
 * for tests only that fixes its clock at a time the collateral was valid. The same for SEV-SNP: the real
 * go-sev-guest report comes without its VCEK, which the service fetches from a fake AMD KDS (`--kds-url`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedPath } from '../../helpers/shared.js';
import { runConfcom } from '../../helpers/cli.js';
import { startFakePcs, type FakePcs } from './fake-pcs.js';
import { startServeAttestation } from './serve-process.js';

const vectors = sharedPath('attestation-vectors');
const VALID_AT = '2025-07-01T00:00:00Z';

// vitest runs a skipped suite's body to collect it, and this body reads the vectors: so no suite without them.
if (!vectors) describe.skip('serve attestation with collateral fetched from a PCS', () => it('needs ../shared/attestation-vectors', () => undefined));
else describe('serve attestation with collateral fetched from a PCS', () => {
  const base = join(vectors as string, 'sgx', 'dcap-qvl');
  const dir = mkdtempSync(join(tmpdir(), 'confcom-service-collateral-'));
  const quote = () => readFileSync(join(base, 'quote.bin')).toString('base64');
  const collateral = () => JSON.parse(readFileSync(join(base, 'collateral.json'), 'utf8')) as Record<string, string>;
  let pcs: FakePcs;
  const reference = join(dir, 'reference.json');

  beforeAll(async () => {
    pcs = await startFakePcs(collateral());
    // The recorded platform's TCB is ConfigurationAndSWHardeningNeeded; accept it explicitly.
    writeFileSync(reference, JSON.stringify({ sgx: { tcb_status: ['UpToDate', 'ConfigurationAndSWHardeningNeeded'] } }));
  });
  afterAll(async () => {
    await pcs?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const attest = async (url: string, body: unknown = { quote: quote() }) => {
    const r = await fetch(`${url}/attest/SgxEnclave?api-version=2022-08-01`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  it('at today\'s date the fetched (recorded) collateral has expired, and the quote is refused', async () => {
    const serve = await startServeAttestation(['--pccs-url', pcs.url, '--reference', reference]);
    try {
      const r = await attest(serve.url);
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ code: 'sgx_collateral_expired' });
      expect(pcs.hits.get('/sgx/certification/v4/tcb')).toBeGreaterThanOrEqual(1);
    } finally {
      serve.stop();
    }
  }, 60_000);

  it('accepts the real quote at a time the collateral is valid (--test-clock), fetching once and caching; the cache dir serves a restart with the PCS down', async () => {
    const cacheDir = join(dir, 'cache');
    const own = await startFakePcs(collateral()); // its own, to take down below
    const before = 0;
    const serve = await startServeAttestation(['--pccs-url', own.url, '--collateral-cache', cacheDir, '--reference', reference, '--test-clock', VALID_AT]);
    try {
      expect(serve.stderr()).toContain('TESTS ONLY');
      const r = await attest(serve.url);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const claims = decodeJwt(String(r.body.token));
      const recorded = readFileSync(join(base, 'quote.bin'));
      // MRENCLAVE sits at offset 48 + 64 of a v3 quote (header, then the report body's first 64 bytes).
      expect(claims).toMatchObject({ 'x-ms-attestation-type': 'sgx', 'x-ms-sgx-mrenclave': recorded.subarray(112, 144).toString('hex'), 'x-confcom-simulated': false, 'x-confcom-tcb-status': 'ConfigurationAndSWHardeningNeeded' });
      expect(claims.iat).toBe(Date.parse(VALID_AT) / 1000);
      expect(claims).not.toHaveProperty('x-ms-runtime'); // no runtimeData, nothing bound: no key can be released to it
      expect((own.hits.get('/sgx/certification/v4/tcb') ?? 0) - before).toBe(1);
      expect((await attest(serve.url)).status).toBe(200);
      expect((own.hits.get('/sgx/certification/v4/tcb') ?? 0) - before).toBe(1); // served from the cache
      // A flipped byte in the signed report body is refused even with good collateral.
      const bad = readFileSync(join(base, 'quote.bin'));
      bad[48 + 100] ^= 1;
      expect((await attest(serve.url, { quote: bad.toString('base64') })).status).toBe(401);
    } finally {
      serve.stop();
    }
    await own.close();
    const down = await startServeAttestation(['--pccs-url', own.url, '--collateral-cache', cacheDir, '--reference', reference, '--test-clock', VALID_AT]);
    try {
      expect((await attest(down.url)).status).toBe(200);
    } finally {
      down.stop();
    }
  }, 60_000);

  it('without a PCS the quote carries no collateral and is refused; bad flags are usage errors', async () => {
    const serve = await startServeAttestation(['--reference', reference, '--test-clock', VALID_AT]);
    try {
      const r = await attest(serve.url);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: 'sgx_collateral_missing' });
    } finally {
      serve.stop();
    }
    for (const args of [['--pccs-url', 'ftp://x'], ['--test-clock', 'yesterday'], ['--collateral-cache', dir]]) {
      const r = await runConfcom(['serve', 'attestation', '--port', '0', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
    }
    const key = join(dir, 'not-a-key.pem');
    writeFileSync(key, 'not a key');
    const r = await runConfcom(['serve', 'attestation', '--port', '0', '--signing-key', key]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('signing_key_invalid');
  }, 60_000);

  it('SEV-SNP: fetches the VCEK of a real report from the KDS by chip and REPORTED_TCB, and accepts it', async () => {
    const snp = join(vectors as string, 'snp', 'go-sev-guest');
    const report = readFileSync(join(snp, 'report.bin'));
    const chipId = report.subarray(0x1a0, 0x1e0).toString('hex');
    const hits: string[] = [];
    const kds = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === `/vcek/v1/Milan/${chipId}?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68`) res.writeHead(200).end(readFileSync(join(snp, 'vcek.der')));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => kds.listen(0, '127.0.0.1', resolve));
    // The recorded guest runs with debugging allowed; say it is accepted here, or the appraisal refuses it.
    const snpReference = join(dir, 'snp-reference.json');
    writeFileSync(snpReference, JSON.stringify({ snp: { allow_debug: true } }));
    const url = `http://127.0.0.1:${(kds.address() as AddressInfo).port}`;
    const serve = await startServeAttestation(['--kds-url', url, '--kds-product', 'Milan', '--reference', snpReference, '--test-clock', '2025-01-01T00:00:00Z']);
    try {
      const r = await fetch(`${serve.url}/attest/snp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ report: report.toString('base64') }) });
      const body = (await r.json()) as Record<string, unknown>;
      expect(r.status, JSON.stringify(body)).toBe(200);
      expect(decodeJwt(String(body.token))).toMatchObject({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-sevsnpvm-chipid': chipId, 'x-confcom-simulated': false });
      expect(hits).toEqual([`/vcek/v1/Milan/${chipId}?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68`]);
      const flipped = Buffer.from(report);
      flipped[0x50] ^= 1; // a byte of the signed report (REPORT_DATA)
      const bad = await fetch(`${serve.url}/attest/snp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ report: flipped.toString('base64') }) });
      expect(bad.status).toBe(401);
    } finally {
      serve.stop();
      await new Promise<void>((resolve) => kds.close(() => resolve()));
    }
  }, 60_000);
});
