/**
 * TDX quote verification, the SGX way for everything below the TD: the PCK chain to Intel's pinned
 * root (with CRLs), the QE report signed by the PCK key and binding the attestation key, the quote
 * signed by that key; then the TDX TCB info (platform, TDX module) and TD_QE identity, signed by
 * Intel's TCB signing key, give the TCB statuses. Byte layout lives in abi.ts.
 */
import { AttestationError } from '../claims.js';
import type { TeeVerifyOptions } from '../registry.js';
import { checkCollateralCrlTimes, checkCollateralTime, convergeTcbStatus, readCollateral, verifyCollateral, type TcbResult, type VerifiedCollateral } from '../sgx/collateral.js';
import { checkPlatformCollateralOnce, qeStatusOnce, verifyQuoteSignatures, type VerifiedPck } from '../sgx/verify.js';
import { parseTdxQuote, type TdReportBody } from './abi.js';
import type { TdxClaims } from './claims.js';
import { tdxModuleStatus, tdxPlatformStatus } from './tcb.js';

/** `allowMissingCrls` accepts collateral without CRLs; off by default, so verification fails closed without them. */
export type TdxVerifyOptions = TeeVerifyOptions;

const hex = (b: Buffer): string => b.toString('hex');

interface TdxTcb {
  platform: TcbResult;
  module: TcbResult | undefined;
}

/**
 * The platform and TDX module judgements depend only on the verified collateral, the verified PCK and
 * the body's TEE_TCB_SVN, MRSIGNERSEAM and SEAMATTRIBUTES: remembered per (collateral, PCK), keyed by
 * those exact bytes, so a long-running verifier judges each TDX module version once.
 */
const tcbResults = new WeakMap<VerifiedCollateral, WeakMap<VerifiedPck, Map<string, TdxTcb>>>();

function tdxTcb(collateral: VerifiedCollateral, pck: VerifiedPck, body: TdReportBody): TdxTcb {
  const key = Buffer.concat([body.teeTcbSvn, body.mrSignerSeam, body.seamAttributes]).toString('latin1');
  let perPck = tcbResults.get(collateral);
  const known = perPck?.get(pck)?.get(key);
  if (known) return known;
  const result = { platform: tdxPlatformStatus(collateral.tcbInfo, pck.ext.tcbComponents, pck.ext.pceSvn, body), module: tdxModuleStatus(collateral.tcbInfo, body) };
  if (!perPck) tcbResults.set(collateral, (perPck = new WeakMap()));
  const byBody = perPck.get(pck) ?? new Map<string, TdxTcb>();
  if (byBody.size >= 64) byBody.clear();
  byBody.set(key, result);
  perPck.set(pck, byBody);
  return result;
}

export function verifyTdx(raw: Buffer, options: TdxVerifyOptions = {}): TdxClaims {
  const quote = parseTdxQuote(raw);
  const collateralInput = readCollateral(options.collateral, options.allowMissingCrls ? 'optional' : 'required');
  const at = options.at ?? new Date();
  const { pck, qeReport } = verifyQuoteSignatures(quote, options, at, 'tdx');

  const collateral = verifyCollateral(collateralInput, options.trustSimulator, 'TDX');
  checkCollateralTime(collateral, at);
  checkCollateralCrlTimes(collateral, at);
  checkPlatformCollateralOnce(collateral, pck, at);
  const { platform, module } = tdxTcb(collateral, pck, quote.body);
  const qe = qeStatusOnce(qeReport, collateral, quote.qeReport);
  // Platform, then TDX module, then TD quoting enclave: the status Intel's QVL reports for the quote.
  const status = convergeTcbStatus(convergeTcbStatus(platform.status, module?.status), qe.status);
  for (const [what, s] of [
    ['platform', platform.status],
    ['TDX module', module?.status],
    ['TD quoting enclave', qe.status],
  ] as const) {
    if (s === 'Revoked') throw new AttestationError('tdx_tcb_revoked', `the ${what} TCB is revoked`);
  }
  const b = quote.body;
  return {
    tee: 'tdx',
    simulated: pck.simulated,
    quoteVersion: quote.version,
    body: b.mrServiceTd ? 'TD1.5' : 'TD1.0',
    teeTcbSvn: hex(b.teeTcbSvn),
    mrSeam: hex(b.mrSeam),
    mrSignerSeam: hex(b.mrSignerSeam),
    seamAttributes: hex(b.seamAttributes),
    tdAttributes: hex(b.tdAttributes),
    xfam: hex(b.xfam),
    mrTd: hex(b.mrTd),
    mrConfigId: hex(b.mrConfigId),
    mrOwner: hex(b.mrOwner),
    mrOwnerConfig: hex(b.mrOwnerConfig),
    rtmrs: b.rtmrs.map(hex),
    reportData: hex(b.reportData),
    debug: (b.tdAttributes[0] & 0x01) !== 0,
    ...(b.mrServiceTd ? { mrServiceTd: hex(b.mrServiceTd) } : {}),
    fmspc: pck.ext.fmspc,
    tcbStatus: status,
    platformTcbStatus: platform.status,
    ...(module ? { tdxModuleTcbStatus: module.status } : {}),
    advisoryIds: [...new Set([...platform.advisoryIds, ...(module?.advisoryIds ?? []), ...qe.advisoryIds])],
    qeTcbStatus: qe.status,
    revocationChecked: collateral.pckCrl !== undefined && collateral.rootCrl !== undefined,
  };
}
