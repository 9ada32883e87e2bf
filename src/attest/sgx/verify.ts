/**
 * SGX ECDSA quote verification: the PCK chain to Intel's pinned SGX Root CA (with CRLs), the QE
 * report signed by the PCK key, the attestation key bound into the QE report data, the quote signed
 * by the attestation key, and the TCB status from verified collateral. Byte layout lives in abi.ts.
 */
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject, type X509Certificate } from 'node:crypto';
import { AttestationError, type SgxClaims } from '../claims.js';
import { buildChain } from '../certs/chain.js';
import { intelSgxRootCa } from '../certs/roots.js';
import { checkCrl, checkValidity, commonName, parseCertificates, validity, type Validity } from '../certs/x509.js';
import { CERT_TYPE_PCK_CHAIN, parseQuote, type SgxQuote } from './abi.js';
import { checkCollateralCrlTimes, checkCollateralTime, convergeTcbStatus, platformTcbStatus, qeTcbStatus, readCollateral, verifyCollateral, type TcbResult, type VerifiedCollateral } from './collateral.js';
import { readPckExtensions, type PckExtensions } from './pck.js';

export interface SgxVerifyOptions {
  at?: Date;
  /** The PCK chain when the quote does not carry one (certification data type other than 5). */
  certs?: Buffer[];
  collateral?: unknown;
  trustSimulator?: boolean;
}

/** The parts of a quote (SGX or TDX) that the PCK chain and QE report vouch for. */
export type QeSignedParts = Pick<SgxQuote, 'qeReport' | 'qeReportSignature' | 'attestationKey' | 'qeAuthData' | 'certType' | 'certData'>;

export interface VerifiedPck {
  /** The exact chain bytes verified (compared in full on every cache hit). */
  bytes: Buffer;
  key: KeyObject;
  ext: PckExtensions;
  path: X509Certificate[];
  simulated: boolean;
  windows: { name: string; window: Validity }[];
  /** QE reports already verified under this PCK key, by their signature (the report is compared in full). */
  qeReports: Map<string, VerifiedQe>;
}

/** A QE report whose PCK signature verified, with what has been checked against it since. */
export interface VerifiedQe {
  report: Buffer;
  /** The attestation key and QE auth data last found bound by this report's data. */
  bound?: { attestationKey: Buffer; authData: Buffer };
  /** The QE identity status per verified collateral. */
  status: WeakMap<VerifiedCollateral, TcbResult>;
}

/**
 * Caches for a long-running verifier. Keys are cheap (lengths and signature bytes); a hit is confirmed
 * by comparing the full bytes, so a cache can only ever return what was verified for identical input.
 */
const pckCache = new Map<string, VerifiedPck>();
const attestationKeys = new Map<string, KeyObject>();
const CACHE_LIMIT = 256;

function remember<V>(map: Map<string, V>, key: string, value: V): V {
  if (map.size >= CACHE_LIMIT) map.clear();
  map.set(key, value);
  return value;
}

export function clearPckCache(): void {
  pckCache.clear();
  attestationKeys.clear();
}

export function pckChainBytes(quote: QeSignedParts, options: SgxVerifyOptions): Buffer[] {
  if (quote.certType === CERT_TYPE_PCK_CHAIN) return [quote.certData];
  if (options.certs?.length) return options.certs;
  throw new AttestationError('sgx_pck_missing', `the quote carries certification data type ${quote.certType}, not a PCK chain, and no PCK chain was supplied`, {
    hint: 'pass the PCK certificate chain with --cert',
  });
}

export function verifyPck(chainBytes: Buffer[], trustSimulator: boolean | undefined): VerifiedPck {
  const bytes = chainBytes.length === 1 ? chainBytes[0] : Buffer.concat(chainBytes);
  const key = `${trustSimulator ? 1 : 0}:${bytes.length}:${bytes.subarray(-64).toString('latin1')}`;
  const hit = pckCache.get(key);
  if (hit && hit.bytes.equals(bytes)) return hit;
  const certs = chainBytes.flatMap((b) => parseCertificates(b, 'PCK certificate chain', { strict: true }));
  const chain = buildChain(certs[0], [intelSgxRootCa()], [], certs.slice(1), { trustSimulator, prefix: 'sgx' });
  if (chain.path.length !== 3) throw new AttestationError('sgx_chain_invalid', `the PCK chain has ${chain.path.length} certificates, expected PCK, PCK CA and root`);
  return remember(pckCache, key, {
    bytes: Buffer.from(bytes),
    key: certs[0].publicKey,
    ext: readPckExtensions(certs[0]),
    path: chain.path,
    simulated: chain.simulated,
    windows: chain.path.map((c) => ({ name: commonName(c), window: validity(c) })),
    qeReports: new Map(),
  });
}

export function attestationKey(xy: Buffer): KeyObject {
  const id = xy.toString('latin1');
  const cached = attestationKeys.get(id);
  if (cached) return cached;
  try {
    const key = createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: xy.subarray(0, 32).toString('base64url'), y: xy.subarray(32, 64).toString('base64url') },
      format: 'jwk',
    });
    return remember(attestationKeys, id, key);
  } catch (error) {
    throw new AttestationError('sgx_quote_signature_invalid', 'the quote attestation key is not a P-256 point', { cause: error, location: { path: 'attestation_key' } });
  }
}

/** The QE report's signature under the PCK key, remembered per PCK (QE reports repeat until the QE restarts). */
export function verifiedQeReport(pck: VerifiedPck, quote: QeSignedParts): VerifiedQe {
  const id = quote.qeReportSignature.toString('latin1');
  const known = pck.qeReports.get(id);
  if (known?.report.equals(quote.qeReport.raw)) return known;
  if (!p1363(pck.key, quote.qeReport.raw, quote.qeReportSignature)) {
    throw new AttestationError('sgx_qe_report_invalid', 'the QE report signature does not verify with the PCK key', {
      location: { path: 'qe_report_signature' },
    });
  }
  return remember(pck.qeReports, id, { report: Buffer.from(quote.qeReport.raw), status: new WeakMap() });
}

/** QE report data = SHA-256(attestation key || QE auth data) || 32 zero bytes. */
export function checkBinding(qe: VerifiedQe, quote: QeSignedParts): void {
  if (qe.bound?.attestationKey.equals(quote.attestationKey) && qe.bound.authData.equals(quote.qeAuthData)) return;
  const binding = createHash('sha256').update(quote.attestationKey).update(quote.qeAuthData).digest();
  const qeData = quote.qeReport.reportData;
  if (!qeData.subarray(0, 32).equals(binding) || qeData.subarray(32).some((b) => b !== 0)) {
    throw new AttestationError('sgx_qe_binding_invalid', 'the QE report data does not bind the attestation key (SHA-256 of key and QE auth data)', {
      location: { path: 'qe_report.report_data' },
    });
  }
  qe.bound = { attestationKey: Buffer.from(quote.attestationKey), authData: Buffer.from(quote.qeAuthData) };
}

export const p1363 = (key: KeyObject, data: Buffer, sig: Buffer): boolean => cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);

/**
 * What depends only on the collateral and the PCK chain (CRL signatures and revocation, the FMSPC
 * match, the platform TCB level), computed once per pair; the time checks are the caller's.
 */
const platformResults = new WeakMap<VerifiedCollateral, WeakMap<VerifiedPck, TcbResult>>();

/** CRLs (signatures and revocation) and the FMSPC/PCE-ID match between collateral and PCK. */
export function checkPlatformCollateral(collateral: VerifiedCollateral, pck: VerifiedPck, at: Date): void {
  const [pckLeaf, pckCa, root] = pck.path;
  if (!collateral.signerChains.every((chain) => chain[chain.length - 1].raw.equals(root.raw))) {
    throw new AttestationError('sgx_collateral_invalid', 'the collateral and the PCK chain end at different roots', { hint: 'use collateral from the same PCS as the quote' });
  }
  if (collateral.pckCrl) checkCrl(collateral.pckCrl, pckCa, [pckLeaf], at, 'PCK CRL');
  if (collateral.rootCrl) checkCrl(collateral.rootCrl, root, [pckCa, ...collateral.signerChains.map((c) => c[0])], at, 'root CA CRL');
  const info = collateral.tcbInfo;
  if (info.fmspc.toLowerCase() !== pck.ext.fmspc || info.pceId.toLowerCase() !== pck.ext.pceId) {
    throw new AttestationError('sgx_collateral_mismatch', `the TCB info is for FMSPC ${info.fmspc} / PCE-ID ${info.pceId}, the PCK for ${pck.ext.fmspc} / ${pck.ext.pceId}`, {
      hint: 'fetch the TCB info for the FMSPC in the PCK certificate',
    });
  }
}

/** Pairs of collateral and PCK chain whose CRLs and FMSPC/PCE-ID have been checked (the time checks stay per call). */
const checkedPairs = new WeakMap<VerifiedCollateral, WeakSet<VerifiedPck>>();

/** checkPlatformCollateral once per (collateral, PCK) pair: both are immutable verified objects. */
export function checkPlatformCollateralOnce(collateral: VerifiedCollateral, pck: VerifiedPck, at: Date): void {
  const checked = checkedPairs.get(collateral);
  if (checked?.has(pck)) return;
  checkPlatformCollateral(collateral, pck, at);
  const set = checked ?? new WeakSet<VerifiedPck>();
  set.add(pck);
  checkedPairs.set(collateral, set);
}

function platformStatus(collateral: VerifiedCollateral, pck: VerifiedPck, at: Date): TcbResult {
  const known = platformResults.get(collateral)?.get(pck);
  if (known) return known;
  checkPlatformCollateralOnce(collateral, pck, at);
  const result = platformTcbStatus(collateral.tcbInfo, pck.ext.tcbComponents, pck.ext.pceSvn);
  const perPck = platformResults.get(collateral) ?? new WeakMap<VerifiedPck, TcbResult>();
  perPck.set(pck, result);
  platformResults.set(collateral, perPck);
  return result;
}

/** The QE identity status of a verified QE report under verified collateral, computed once per pair. */
export function qeStatusOnce(qeReport: VerifiedQe, collateral: VerifiedCollateral, report: SgxQuote['qeReport']): TcbResult {
  let qe = qeReport.status.get(collateral);
  if (!qe) {
    qe = qeTcbStatus(collateral.qeIdentity, report);
    qeReport.status.set(collateral, qe);
  }
  return qe;
}

/**
 * Everything the PCK chain vouches for, shared by SGX and TDX quotes: the chain (and its validity at
 * `at`), the QE report's PCK signature, its binding of the attestation key, and the quote's signature.
 */
export function verifyQuoteSignatures(
  quote: QeSignedParts & { signed: Buffer; signature: Buffer },
  options: SgxVerifyOptions,
  at: Date,
  prefix: 'sgx' | 'tdx',
): { pck: VerifiedPck; qeReport: VerifiedQe } {
  const pck = verifyPck(pckChainBytes(quote, options), options.trustSimulator);
  for (const { name, window } of pck.windows) checkValidity(name, window, at);
  const qeReport = verifiedQeReport(pck, quote);
  checkBinding(qeReport, quote);
  if (!p1363(attestationKey(quote.attestationKey), quote.signed, quote.signature)) {
    throw new AttestationError(`${prefix}_quote_signature_invalid`, 'the quote signature does not verify with the attestation key', {
      location: { path: 'signature' },
      hint: 'the quote was altered after the quoting enclave signed it',
    });
  }
  return { pck, qeReport };
}

export function verifySgx(raw: Buffer, options: SgxVerifyOptions = {}): SgxClaims {
  const quote = parseQuote(raw);
  const collateralInput = readCollateral(options.collateral);
  const at = options.at ?? new Date();
  const { pck, qeReport } = verifyQuoteSignatures(quote, options, at, 'sgx');

  const collateral = verifyCollateral(collateralInput, options.trustSimulator);
  checkCollateralTime(collateral, at);
  checkCollateralCrlTimes(collateral, at);
  const platform = platformStatus(collateral, pck, at);
  const qe = qeStatusOnce(qeReport, collateral, quote.qeReport);
  for (const [what, status] of [
    ['platform', platform.status],
    ['quoting enclave', qe.status],
  ] as const) {
    if (status === 'Revoked') throw new AttestationError('sgx_tcb_revoked', `the ${what} TCB is revoked`);
  }
  const body = quote.body;
  return {
    tee: 'sgx',
    simulated: pck.simulated,
    quoteVersion: quote.version,
    mrenclave: body.mrEnclave.toString('hex'),
    mrsigner: body.mrSigner.toString('hex'),
    isvProdId: body.isvProdId,
    isvSvn: body.isvSvn,
    attributes: body.attributes.toString('hex'),
    // ATTRIBUTES.FLAGS bit 1 is DEBUG.
    debug: (body.attributes[0] & 0x02) !== 0,
    reportData: body.reportData.toString('hex'),
    fmspc: pck.ext.fmspc,
    // Converged with the QE identity's status, as Intel's QVL reports it; the platform's alone beside it.
    tcbStatus: convergeTcbStatus(platform.status, qe.status),
    platformTcbStatus: platform.status,
    advisoryIds: [...new Set([...platform.advisoryIds, ...qe.advisoryIds])],
    qeTcbStatus: qe.status,
  };
}
