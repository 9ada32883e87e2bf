/**
 * A fake Intel PCS/PCCS on loopback serving the real SGX collateral recorded in
 * ../shared/attestation-vectors/sgx/dcap-qvl/collateral.json, in the API v4 shapes (signed JSON bodies,
 * URL-encoded issuer chains in headers, DER CRLs). Counts hits per path.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakePcs {
  url: string;
  hits: Map<string, number>;
  close(): Promise<void>;
}

type Collateral = Record<string, string>;

function answer(c: Collateral, path: string, query: URLSearchParams): { body: string | Buffer; headers: Record<string, string> } | undefined {
  switch (path) {
    case '/sgx/certification/v4/tcb':
      if (query.get('fmspc')?.toLowerCase() !== JSON.parse(c.tcb_info).fmspc.toLowerCase()) return undefined;
      return { body: `{"tcbInfo":${c.tcb_info},"signature":"${c.tcb_info_signature}"}`, headers: { 'TCB-Info-Issuer-Chain': encodeURIComponent(c.tcb_info_issuer_chain) } };
    case '/sgx/certification/v4/qe/identity':
      return { body: `{"enclaveIdentity":${c.qe_identity},"signature":"${c.qe_identity_signature}"}`, headers: { 'SGX-Enclave-Identity-Issuer-Chain': encodeURIComponent(c.qe_identity_issuer_chain) } };
    case '/sgx/certification/v4/pckcrl':
      return { body: Buffer.from(c.pck_crl, 'hex'), headers: { 'SGX-PCK-CRL-Issuer-Chain': encodeURIComponent(c.pck_crl_issuer_chain) } };
    case '/sgx/certification/v4/rootcacrl':
      return { body: c.root_ca_crl, headers: {} };
    default:
      return undefined;
  }
}

export async function startFakePcs(collateral: Collateral): Promise<FakePcs> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://pcs');
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    const a = answer(collateral, url.pathname, url.searchParams);
    if (!a) res.writeHead(404).end();
    else res.writeHead(200, a.headers).end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
