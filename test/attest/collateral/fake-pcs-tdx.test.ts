/**
 * TDX collateral fetched from a fake Intel PCS on loopback serving the real collateral taken with the
 * real TDX quote of test/fixtures/attest/tdx-dcap-qvl (dcap-qvl gas test): TCB info from
 * /tdx/certification/v4/tcb, the TD_QE identity from /tdx/certification/v4/qe/identity, the CRLs from
 * the SGX routes (Intel serves one PCK CRL for both). The quote verifies at the service's "now" after
 * fetching, through the same cache as SGX: refreshed before expiry, served while the PCS is down.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollateralCache, verifyWithFreshCollateral, type CollateralSources } from '../../../src/attest/collateral/index.js';
import { codeOfAsync } from '../sim/error-code.js';
import { startFake, stop, type Fake, type Route } from './fake-server.js';

const dir = new URL('../../fixtures/attest/tdx-dcap-qvl/', import.meta.url);
const quote = Buffer.from(readFileSync(new URL('gas-test-quote_hex.txt', dir), 'utf8').trim(), 'hex');
const c = JSON.parse(readFileSync(new URL('gas-test-quote_collateral.json', dir), 'utf8')) as Record<string, string>;
const NOW = Date.UTC(2025, 8, 10);
const HOUR = 3_600_000;

const routes = (url: string): Route | undefined => {
  if (url === '/tdx/certification/v4/tcb?fmspc=20a06f000000') {
    return { body: `{"tcbInfo":${c.tcb_info},"signature":"${c.tcb_info_signature}"}`, headers: { 'TCB-Info-Issuer-Chain': encodeURIComponent(c.tcb_info_issuer_chain) } };
  }
  if (url === '/tdx/certification/v4/qe/identity') {
    return { body: `{"enclaveIdentity":${c.qe_identity},"signature":"${c.qe_identity_signature}"}`, headers: { 'SGX-Enclave-Identity-Issuer-Chain': encodeURIComponent(c.qe_identity_issuer_chain) } };
  }
  if (url === '/sgx/certification/v4/pckcrl?ca=platform&encoding=der') return { body: Buffer.from(c.pck_crl, 'hex'), headers: { 'SGX-PCK-CRL-Issuer-Chain': encodeURIComponent(c.pck_crl_issuer_chain) } };
  if (url === '/sgx/certification/v4/rootcacrl') return { body: c.root_ca_crl };
  return undefined;
};

describe('TDX collateral from a fake PCS', () => {
  let pcs: Fake;
  beforeAll(async () => {
    pcs = await startFake(routes);
  });
  afterAll(async () => {
    if (pcs.server.listening) await stop(pcs);
  });

  it('verifies the real TDX quote at "now" after fetching its TDX collateral, refreshes before expiry, survives the PCS going down', async () => {
    let now = NOW;
    const errors: string[] = [];
    const cache = new CollateralCache({ now: () => now, refreshBeforeMs: 24 * HOUR, onError: (key) => errors.push(key) });
    const sources: CollateralSources = { pcs: { baseUrl: pcs.url }, cache };
    const claims = await verifyWithFreshCollateral(quote, sources, { at: new Date(now) });
    expect(claims).toMatchObject({ tee: 'tdx', tcbStatus: 'UpToDate', qeTcbStatus: 'UpToDate', tdxModuleTcbStatus: 'UpToDate', revocationChecked: true });
    expect(pcs.hits.get('/tdx/certification/v4/tcb')).toBe(1);
    expect(pcs.hits.get('/tdx/certification/v4/qe/identity')).toBe(1);
    expect(pcs.hits.get('/sgx/certification/v4/tcb')).toBeUndefined();

    const key = [...(cache as unknown as { entries: Map<string, unknown> }).entries.keys()][0];
    expect(key).toContain(':tdx:20a06f000000:platform');
    const expires = cache.expiry(key) as Date;
    // The earliest nextUpdate of the four: the PCK CRL's (2025-10-02T07:03:51Z), before the TD_QE identity's and the TCB info's.
    expect(expires.toISOString()).toBe('2025-10-02T07:03:51.000Z');

    await verifyWithFreshCollateral(quote, sources, { at: new Date(now) });
    expect(pcs.hits.get('/tdx/certification/v4/tcb')).toBe(1);
    now = expires.getTime() - 2 * HOUR;
    await verifyWithFreshCollateral(quote, sources, { at: new Date(now) });
    expect(pcs.hits.get('/tdx/certification/v4/tcb')).toBe(2);

    await stop(pcs);
    now = expires.getTime() - HOUR;
    expect((await verifyWithFreshCollateral(quote, sources, { at: new Date(now) })).tee).toBe('tdx');
    expect(errors).toHaveLength(1);
    now = expires.getTime() + HOUR;
    expect(await codeOfAsync(() => verifyWithFreshCollateral(quote, sources, { at: new Date(now) }))).toBe('collateral_unreachable');
  });

  it('refuses SGX collateral served on the TDX route, and a TDX TCB info whose signature does not verify', async () => {
    const sgxOnTdx = await startFake((url) => {
      const route = routes(url);
      if (route && url.startsWith('/tdx/certification/v4/qe/identity')) return { ...route, body: String(route.body).replace('"id":"TD_QE"', '"id":"QE"') };
      return route;
    });
    const cache = new CollateralCache({ now: () => NOW });
    expect(await codeOfAsync(() => verifyWithFreshCollateral(quote, { pcs: { baseUrl: sgxOnTdx.url }, cache }, { at: new Date(NOW) }))).toBe('sgx_collateral_invalid');
    await stop(sgxOnTdx);
    const edited = await startFake((url) => {
      const route = routes(url);
      if (route && url.includes('/tcb?')) return { ...route, body: String(route.body).replace('"pcesvn":13', '"pcesvn":12') };
      return route;
    });
    expect(await codeOfAsync(() => verifyWithFreshCollateral(quote, { pcs: { baseUrl: edited.url }, cache }, { at: new Date(NOW) }))).toBe('sgx_collateral_invalid');
    await stop(edited);
  });
});
