/**
 * Verification at "now" with fresh collateral: the entry point for the attestation service. The
 * evidence says what it needs (an SGX or TDX quote's FMSPC and PCK CA; an SEV-SNP report's chip and
 * REPORTED_TCB), the sources are fetched through the cache, and the evidence is verified with them.
 *
 *   const sources = collateralSources({ pcs: { baseUrl }, kds: { baseUrl }, cache: { dir } });
 *   const claims = await verifyWithFreshCollateral(evidence, sources, { at: new Date(now()) });
 *
 * Collateral the caller passes in options wins; only what is missing is fetched.
 */
import { AttestationError, type EvidenceClaims } from '../claims.js';
import { parseCertificates } from '../certs/x509.js';
import { parseReport, decodeTcb } from '../snp/abi.js';
import { parseQuote, CERT_TYPE_PCK_CHAIN } from '../sgx/abi.js';
import { parseTdxQuote } from '../tdx/abi.js';
import { readPckExtensions } from '../sgx/pck.js';
import { sniffTee, type TeeVerifyOptions } from '../registry.js';
import { verifyEvidence } from '../verify.js';
import { CollateralCache, type CollateralCacheOptions } from './cache.js';
import { amdCrl, amdVcek, type KdsOptions } from './kds.js';
import { intelCollateral, type IntelTee, type PcsOptions } from './pcs.js';

export { CollateralCache, type CollateralCacheOptions } from './cache.js';
export { fetchIntelCollateral, intelCollateral, type PcsOptions } from './pcs.js';
export { amdVcek, amdCrl, type KdsOptions } from './kds.js';

export interface CollateralSources {
  pcs?: PcsOptions;
  kds?: KdsOptions & { product?: 'Milan' | 'Genoa' | 'Turin'; crl?: boolean };
  cache: CollateralCache;
}

export function collateralSources(options: { pcs?: PcsOptions; kds?: CollateralSources['kds']; cache?: CollateralCacheOptions }): CollateralSources {
  return { pcs: options.pcs, kds: options.kds, cache: new CollateralCache(options.cache) };
}

/** SGX and TDX quotes name their collateral the same way: the FMSPC and issuing CA of the PCK certificate. */
function intelFetcher(tee: IntelTee, parse: (quote: Buffer) => { certType: number; certData: Buffer }): Fetcher {
  return async (quote, sources, options) => {
    if (options.collateral !== undefined || !sources.pcs) return options;
    const parsed = parse(quote);
    const chain = parsed.certType === CERT_TYPE_PCK_CHAIN ? parseCertificates(parsed.certData, 'PCK chain', { strict: true }) : parseCertificates(Buffer.concat(options.certs ?? []));
    const pck = chain[0];
    const ca = /Processor CA/.test(pck.issuer) ? 'processor' : 'platform';
    const collateral = await intelCollateral(sources.cache, { ...sources.pcs, trustSimulator: options.trustSimulator }, tee, readPckExtensions(pck).fmspc, ca);
    return { ...options, collateral };
  };
}

async function snpOptions(report: Buffer, sources: CollateralSources, options: TeeVerifyOptions): Promise<TeeVerifyOptions> {
  const kds = sources.kds;
  if (!kds || options.certs?.length) return options;
  const parsed = parseReport(report);
  const product = kds.product ?? (parsed.cpuidFamily === 0x1a ? 'Turin' : parsed.cpuidModel >= 0x10 ? 'Genoa' : parsed.cpuidFamily === 0x19 ? 'Milan' : undefined);
  if (!product) throw new AttestationError('collateral_product_unknown', 'the report does not say which AMD product made it (version 2)', { hint: 'configure the KDS source with its product' });
  const tcb = decodeTcb(parsed.reportedTcb, product === 'Turin' ? 'turin' : 'milan');
  const chipId = product === 'Turin' ? parsed.chipId.subarray(0, 8) : parsed.chipId;
  const vcek = await amdVcek(sources.cache, kds, product, chipId.toString('hex'), tcb);
  const crls = kds.crl ? [await amdCrl(sources.cache, kds, product)] : options.crls;
  return { ...options, certs: [vcek], crls };
}

type Fetcher = (evidence: Buffer, sources: CollateralSources, options: TeeVerifyOptions) => Promise<TeeVerifyOptions>;

/** The kinds whose collateral a vendor service serves; the others verify with what they carry. */
const FETCHERS: Partial<Record<string, Fetcher>> = { sgx: intelFetcher('sgx', parseQuote), tdx: intelFetcher('tdx', parseTdxQuote), snp: snpOptions };

/** Verifies raw evidence at `options.at` (default now), fetching the collateral it lacks. */
export async function verifyWithFreshCollateral(evidence: Buffer, sources: CollateralSources, options: TeeVerifyOptions = {}): Promise<EvidenceClaims> {
  const fetcher = FETCHERS[sniffTee(evidence)?.name ?? ''];
  return verifyEvidence(evidence, fetcher ? await fetcher(evidence, sources, options) : options);
}
