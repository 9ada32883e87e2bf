/**
 * Intel PCS / PCCS client for SGX and TDX collateral (API v4): TCB info for an FMSPC, the QE (or TD
 * QE) identity, the PCK CRL of the platform or processor CA, and the root CA CRL. The result is the
 * collateral form `sgx/collateral.ts` reads, verified before it is cached (so a bad source cannot
 * poison the cache), and cached until Intel's nextUpdate.
 *
 *   GET {base}/{sgx|tdx}/certification/v4/tcb?fmspc=F       {"tcbInfo":{...},"signature":hex}  TCB-Info-Issuer-Chain
 *   GET {base}/{sgx|tdx}/certification/v4/qe/identity         {"enclaveIdentity":{...},"signature"}  SGX-Enclave-Identity-Issuer-Chain
 *   GET {base}/sgx/certification/v4/pckcrl?ca=C&encoding=der  DER  SGX-PCK-CRL-Issuer-Chain
 *   GET {rootCrlUrl}                                          DER or hex (PCCS: {base}/sgx/certification/v4/rootcacrl)
 */
import { AttestationError } from '../claims.js';
import { parseCrl } from '../certs/x509.js';
import { verifyCollateral, type SgxCollateralInput } from '../sgx/collateral.js';
import type { CollateralCache } from './cache.js';
import { chainHeader, get } from './http.js';

export interface PcsOptions {
  /** PCS or PCCS base URL, e.g. https://api.trustedservices.intel.com (no trailing /sgx/...). */
  baseUrl: string;
  /** Root CA CRL URL (default: the PCCS route under baseUrl). Intel's is https://certificates.trustedservices.intel.com/IntelSGXRootCA.der */
  rootCrlUrl?: string;
  trustSimulator?: boolean;
}

export type PckCa = 'platform' | 'processor';
export type IntelTee = 'sgx' | 'tdx';

/** The signed JSON member exactly as served: Intel signs the text of the object, not a re-serialisation. */
function signedMember(body: string, member: string, url: string): { text: string; signature: string } {
  const m = new RegExp(`^\\s*\\{\\s*"${member}"\\s*:\\s*(\\{[\\s\\S]*\\})\\s*,\\s*"signature"\\s*:\\s*"([0-9a-fA-F]+)"\\s*\\}\\s*$`).exec(body);
  if (!m) throw new AttestationError('collateral_fetch_failed', `${url} did not answer {"${member}":{...},"signature":"..."}`);
  return { text: m[1], signature: m[2] };
}

function earliest(...dates: (Date | undefined)[]): Date {
  return new Date(Math.min(...dates.filter((d): d is Date => d !== undefined).map((d) => d.getTime())));
}

export async function fetchIntelCollateral(options: PcsOptions, tee: IntelTee, fmspc: string, ca: PckCa): Promise<{ collateral: SgxCollateralInput; expires: Date }> {
  if (!/^[0-9a-fA-F]{12}$/.test(fmspc)) throw new AttestationError('collateral_fetch_failed', `FMSPC '${fmspc}' is not 6 bytes of hex`);
  const base = options.baseUrl.replace(/\/+$/, '');
  const tcbUrl = `${base}/${tee}/certification/v4/tcb?fmspc=${fmspc}`;
  const qeUrl = `${base}/${tee}/certification/v4/qe/identity`;
  const crlUrl = `${base}/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`;
  const rootUrl = options.rootCrlUrl ?? `${base}/sgx/certification/v4/rootcacrl`;
  const [tcb, qe, crl, root] = await Promise.all([get(tcbUrl), get(qeUrl), get(crlUrl), get(rootUrl)]);
  const tcbInfo = signedMember(tcb.body.toString('utf8'), 'tcbInfo', tcbUrl);
  const qeIdentity = signedMember(qe.body.toString('utf8'), 'enclaveIdentity', qeUrl);
  // PCCS serves the root CRL as hex text, Intel's site as DER: both become hex of DER here.
  const rootText = root.body.toString('latin1').trim();
  const collateral: SgxCollateralInput = {
    tcb_info: tcbInfo.text,
    tcb_info_signature: tcbInfo.signature,
    tcb_info_issuer_chain: chainHeader(tcb, 'TCB-Info-Issuer-Chain', tcbUrl),
    qe_identity: qeIdentity.text,
    qe_identity_signature: qeIdentity.signature,
    qe_identity_issuer_chain: chainHeader(qe, 'SGX-Enclave-Identity-Issuer-Chain', qeUrl),
    pck_crl: crl.body.toString('hex'),
    pck_crl_issuer_chain: chainHeader(crl, 'SGX-PCK-CRL-Issuer-Chain', crlUrl),
    root_ca_crl: /^[0-9a-fA-F]+$/.test(rootText) ? rootText.toLowerCase() : root.body.toString('hex'),
  };
  // Signatures and chains checked now, before anything is cached; time windows are checked at use.
  const verified = verifyCollateral(collateral, options.trustSimulator, tee === 'tdx' ? 'TDX' : 'SGX');
  const expires = earliest(
    new Date(verified.tcbInfo.nextUpdate),
    new Date(verified.qeIdentity.nextUpdate),
    parseCrl(collateral.pck_crl).nextUpdate,
    parseCrl(collateral.root_ca_crl).nextUpdate,
  );
  return { collateral, expires };
}

/** Collateral for an FMSPC through the cache (refreshed before Intel's nextUpdate). */
export async function intelCollateral(cache: CollateralCache, options: PcsOptions, tee: IntelTee, fmspc: string, ca: PckCa): Promise<SgxCollateralInput> {
  const key = `intel:${options.baseUrl}:${tee}:${fmspc.toLowerCase()}:${ca}`;
  const text = await cache.get(key, async () => {
    const { collateral, expires } = await fetchIntelCollateral(options, tee, fmspc, ca);
    return { value: JSON.stringify(collateral), expires };
  });
  return JSON.parse(text) as SgxCollateralInput;
}
