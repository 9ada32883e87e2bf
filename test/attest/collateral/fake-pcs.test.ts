/**
 * Collateral fetching against a fake Intel PCS / AMD KDS on loopback serving the real collateral of
 * ../shared/attestation-vectors: the real SGX quote verifies at the service's "now" after fetching;
 * the cache refreshes before expiry, survives the source going down while valid, and fails once the
 * cached collateral has expired. The SEV-SNP VCEK is fetched from the fake KDS by chip and TCB.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollateralCache, verifyWithFreshCollateral, type CollateralSources } from '../../../src/attest/collateral/index.js';
import { codeOfAsync } from '../sim/error-code.js';
import { sharedPath } from '../../helpers/shared.js';
import { startFake, stop, type Fake, type Route } from './fake-server.js';

const vectors = sharedPath('attestation-vectors');
const NOW = new Date('2025-07-01T00:00:00Z').getTime();
const HOUR = 3_600_000;

const code = (promise: Promise<unknown>): Promise<string> => codeOfAsync(() => promise);

// vitest runs a skipped suite's body to collect it, and this body reads the vectors: so no suite without them.
if (!vectors) describe.skip('collateral from a fake PCS / KDS', () => it('needs ../shared/attestation-vectors', () => undefined));
else describe('collateral from a fake PCS / KDS', () => {
  const base = vectors as string;
  const quote = readFileSync(join(base, 'sgx/dcap-qvl/quote.bin'));
  const c = JSON.parse(readFileSync(join(base, 'sgx/dcap-qvl/collateral.json'), 'utf8')) as Record<string, string>;
  const pcsRoutes = (url: string): Route | undefined => {
    if (url === '/sgx/certification/v4/tcb?fmspc=00a067110000' || url === '/sgx/certification/v4/tcb?fmspc=00A067110000') {
      return { body: `{"tcbInfo":${c.tcb_info},"signature":"${c.tcb_info_signature}"}`, headers: { 'TCB-Info-Issuer-Chain': encodeURIComponent(c.tcb_info_issuer_chain) } };
    }
    if (url === '/sgx/certification/v4/qe/identity') {
      return { body: `{"enclaveIdentity":${c.qe_identity},"signature":"${c.qe_identity_signature}"}`, headers: { 'SGX-Enclave-Identity-Issuer-Chain': encodeURIComponent(c.qe_identity_issuer_chain) } };
    }
    if (url.startsWith('/sgx/certification/v4/pckcrl?')) return { body: Buffer.from(c.pck_crl, 'hex'), headers: { 'SGX-PCK-CRL-Issuer-Chain': encodeURIComponent(c.pck_crl_issuer_chain) } };
    if (url === '/sgx/certification/v4/rootcacrl') return { body: c.root_ca_crl };
    return undefined;
  };
  let pcs: Fake;
  beforeAll(async () => {
    pcs = await startFake(pcsRoutes);
  });
  afterAll(async () => {
    if (pcs.server.listening) await stop(pcs);
  });

  it('verifies the real SGX quote at "now" after fetching, refreshes before expiry, and survives the PCS going down', async () => {
    let now = NOW;
    const errors: string[] = [];
    const cache = new CollateralCache({ now: () => now, refreshBeforeMs: 24 * HOUR, onError: (key) => errors.push(key) });
    const sources: CollateralSources = { pcs: { baseUrl: pcs.url }, cache };
    const claims = await verifyWithFreshCollateral(quote, sources, { at: new Date(now) });
    expect(claims).toMatchObject({ tee: 'sgx', tcbStatus: 'ConfigurationAndSWHardeningNeeded', qeTcbStatus: 'UpToDate' });
    expect(pcs.hits.get('/sgx/certification/v4/tcb')).toBe(1);
    const key = [...(cache as unknown as { entries: Map<string, unknown> }).entries.keys()][0];
    const expires = cache.expiry(key) as Date;
    // The earliest nextUpdate among TCB info, QE identity and the two CRLs.
    expect(expires.getTime()).toBeLessThanOrEqual(new Date(JSON.parse(c.tcb_info).nextUpdate).getTime());
    expect(expires.getTime()).toBeGreaterThan(NOW);

    // Within the window: served from the cache.
    await verifyWithFreshCollateral(quote, sources, { at: new Date(now) });
    expect(pcs.hits.get('/sgx/certification/v4/tcb')).toBe(1);
    // Inside the refresh margin: fetched again, before it expires.
    now = expires.getTime() - 2 * HOUR;
    await verifyWithFreshCollateral(quote, sources, { at: new Date(now) });
    expect(pcs.hits.get('/sgx/certification/v4/tcb')).toBe(2);

    // The PCS goes down: the cached collateral still serves while it is valid...
    await stop(pcs);
    now = expires.getTime() - HOUR;
    const offline = new CollateralCache({ now: () => now });
    const fresh = { pcs: { baseUrl: pcs.url }, cache };
    expect((await verifyWithFreshCollateral(quote, fresh, { at: new Date(now) })).tee).toBe('sgx');
    expect(errors).toHaveLength(1);
    // ...a cache that never fetched has nothing to serve...
    expect(await code(verifyWithFreshCollateral(quote, { pcs: { baseUrl: pcs.url }, cache: offline }, { at: new Date(now) }))).toBe('collateral_unreachable');
    // ...and past expiry the cached entry is not served.
    now = expires.getTime() + HOUR;
    expect(await code(verifyWithFreshCollateral(quote, fresh, { at: new Date(now) }))).toBe('collateral_unreachable');
  });

  it('caches to a directory: a new process verifies with the source down', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'confcom-collateral-'));
    const fake = await startFake(pcsRoutes);
    const first = new CollateralCache({ dir, now: () => NOW });
    await verifyWithFreshCollateral(quote, { pcs: { baseUrl: fake.url }, cache: first }, { at: new Date(NOW) });
    await stop(fake);
    const second = new CollateralCache({ dir, now: () => NOW });
    expect((await verifyWithFreshCollateral(quote, { pcs: { baseUrl: fake.url }, cache: second }, { at: new Date(NOW) })).tee).toBe('sgx');
  });

  it('refuses to cache collateral whose signature does not verify', async () => {
    const bad = await startFake((url) => {
      const route = pcsRoutes(url);
      if (route && url.includes('/tcb?')) return { ...route, body: String(route.body).replace('"version":3', '"version":4') };
      return route;
    });
    const cache = new CollateralCache({ now: () => NOW });
    expect(await code(verifyWithFreshCollateral(quote, { pcs: { baseUrl: bad.url }, cache }, { at: new Date(NOW) }))).toBe('sgx_collateral_invalid');
    expect(cache.expiry('anything')).toBeUndefined();
    await stop(bad);
  });

  it('fetches the SEV-SNP VCEK from a fake KDS by chip ID and REPORTED_TCB', async () => {
    const report = readFileSync(join(base, 'snp/go-sev-guest/report.bin'));
    const vcek = readFileSync(join(base, 'snp/go-sev-guest/vcek.der'));
    const chipId = report.subarray(0x1a0, 0x1e0).toString('hex');
    const kds = await startFake((url) => (url === `/vcek/v1/Milan/${chipId}?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68` ? { body: vcek } : undefined));
    const cache = new CollateralCache({ now: () => NOW });
    const claims = await verifyWithFreshCollateral(report, { kds: { baseUrl: kds.url, product: 'Milan' }, cache }, { at: new Date('2025-01-01T00:00:00Z') });
    expect(claims).toMatchObject({ tee: 'snp', product: 'Milan', signingKey: 'vcek' });
    expect(kds.hits.get(`/vcek/v1/Milan/${chipId}`)).toBe(1);
    await stop(kds);
  });
});
