/**
 * AMD KDS client: the VCEK for a chip at a reported TCB, and the product's CRL (ARK-signed, lists
 * revoked ASKs). Both are cached until the certificate's notAfter / the CRL's nextUpdate.
 *
 *   GET {base}/vcek/v1/{product}/{hwid}?blSPL=&teeSPL=&snpSPL=&ucodeSPL=   DER certificate
 *   GET {base}/vcek/v1/{product}/crl                                       DER CRL
 */
import type { TcbVersion } from '../claims.js';
import { parseCertificates, parseCrl } from '../certs/x509.js';
import type { CollateralCache } from './cache.js';
import { get } from './http.js';

export interface KdsOptions {
  /** e.g. https://kdsintf.amd.com */
  baseUrl: string;
}

export async function amdVcek(cache: CollateralCache, options: KdsOptions, product: string, chipId: string, tcb: TcbVersion): Promise<Buffer> {
  const base = options.baseUrl.replace(/\/+$/, '');
  const params = new URLSearchParams({ blSPL: String(tcb.bootloader), teeSPL: String(tcb.tee), snpSPL: String(tcb.snp), ucodeSPL: String(tcb.microcode) });
  if (tcb.fmc !== undefined) params.set('fmcSPL', String(tcb.fmc));
  const url = `${base}/vcek/v1/${product}/${chipId}?${params}`;
  const text = await cache.get(`amd:vcek:${url}`, async () => {
    const { body } = await get(url);
    const [cert] = parseCertificates(body, 'VCEK from KDS', { strict: true });
    return { value: body.toString('hex'), expires: new Date(cert.validTo) };
  });
  return Buffer.from(text, 'hex');
}

export async function amdCrl(cache: CollateralCache, options: KdsOptions, product: string): Promise<Buffer> {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/vcek/v1/${product}/crl`;
  const text = await cache.get(`amd:crl:${url}`, async () => {
    const { body } = await get(url);
    const crl = parseCrl(body, 'AMD CRL from KDS');
    // A CRL without nextUpdate is refetched daily.
    return { value: body.toString('hex'), expires: crl.nextUpdate ?? new Date(Date.now() + 86_400_000) };
  });
  return Buffer.from(text, 'hex');
}
