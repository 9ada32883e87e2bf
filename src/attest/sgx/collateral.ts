/**
 * SGX DCAP collateral: TCB info and QE identity (signed JSON, checked over the exact text Intel's PCS
 * served), their issuer chains, and the PCK and root CA CRLs. Input is the JSON form dcap-qvl and
 * PCCS clients use (snake_case keys, CRLs as hex of DER or PEM).
 */
import { verify as cryptoVerify, type X509Certificate } from 'node:crypto';
import { AttestationError, EvidenceFormatError } from '../claims.js';
import { buildChain } from '../certs/chain.js';
import { intelSgxRootCa } from '../certs/roots.js';
import { strictHex } from '../certs/hex.js';
import { checkCrlTime, checkValidity, commonName, parseCertificates, parseCrl, validity, type Crl, type Validity } from '../certs/x509.js';

export interface SgxCollateralInput {
  tcb_info: string;
  tcb_info_signature: string;
  tcb_info_issuer_chain: string;
  qe_identity: string;
  qe_identity_signature: string;
  qe_identity_issuer_chain: string;
  pck_crl: string;
  root_ca_crl: string;
  pck_crl_issuer_chain?: string;
}

/** Collateral as read: TDX collateral may come without CRLs when the caller accepts unchecked revocation. */
export type CollateralInput = Omit<SgxCollateralInput, 'pck_crl' | 'root_ca_crl'> & { pck_crl?: string; root_ca_crl?: string };

const SIGNED = ['tcb_info', 'tcb_info_signature', 'tcb_info_issuer_chain', 'qe_identity', 'qe_identity_signature', 'qe_identity_issuer_chain'] as const;
const CRLS = ['pck_crl', 'root_ca_crl'] as const;
const REQUIRED = [...SIGNED, ...CRLS] as const;

/** Which collateral: SGX (TCB info id SGX, QE identity QE) or TDX (TCB info id TDX, QE identity TD_QE). */
export type CollateralKind = 'SGX' | 'TDX';

export interface TcbLevel {
  tcb: { sgxtcbcomponents?: { svn: number }[]; tdxtcbcomponents?: { svn: number }[]; pcesvn: number; [k: string]: unknown };
  tcbStatus: string;
  advisoryIDs?: string[];
}

export interface TcbInfo {
  id?: string;
  version: number;
  issueDate: string;
  nextUpdate: string;
  fmspc: string;
  pceId: string;
  tcbLevels: TcbLevel[];
  /** TDX TCB info: identities of the TDX module versions (by `TDX_<major>`). */
  tdxModuleIdentities?: { id: string; mrsigner: string; attributes: string; attributesMask: string; tcbLevels: { tcb: { isvsvn: number }; tcbStatus: string; advisoryIDs?: string[] }[] }[];
  tdxModule?: { mrsigner: string; attributes: string; attributesMask: string };
}

export interface QeIdentity {
  id: string;
  version: number;
  issueDate: string;
  nextUpdate: string;
  miscselect: string;
  miscselectMask: string;
  attributes: string;
  attributesMask: string;
  mrsigner: string;
  isvprodid: number;
  tcbLevels: { tcb: { isvsvn: number }; tcbStatus: string; advisoryIDs?: string[] }[];
}

/** Collateral whose signatures and chains have been checked (cached); time windows are checked per use. */
export interface VerifiedCollateral {
  tcbInfo: TcbInfo;
  qeIdentity: QeIdentity;
  /** Absent only for TDX collateral read with `crls: 'optional'`. */
  pckCrl?: Crl;
  rootCrl?: Crl;
  kind: CollateralKind;
  windows: { name: string; window: Validity }[];
  signerChains: X509Certificate[][];
}

function invalid(message: string, cause?: unknown): AttestationError {
  return new AttestationError('sgx_collateral_invalid', message, { cause, hint: 'fetch fresh collateral for this FMSPC from Intel PCS or your PCCS' });
}

/** Accepts the collateral as an object, JSON text or a Buffer of JSON text. */
export function readCollateral(input: unknown, crls: 'required' | 'optional' = 'required'): CollateralInput {
  let value = input;
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (error) {
      throw new EvidenceFormatError('sgx_collateral_malformed', `SGX collateral is not JSON: ${(error as Error).message}`, { cause: error });
    }
  }
  if (typeof value !== 'object' || value === null) {
    throw new EvidenceFormatError('sgx_collateral_missing', 'SGX quote verification needs collateral (TCB info, QE identity, CRLs)', {
      hint: 'pass --collateral FILE (the JSON dcap-qvl / PCCS clients produce)',
    });
  }
  const record = value as Record<string, unknown>;
  for (const key of REQUIRED) {
    const optional = crls === 'optional' && (CRLS as readonly string[]).includes(key) && record[key] === undefined;
    if (typeof record[key] !== 'string' && !optional) {
      throw new EvidenceFormatError('sgx_collateral_malformed', `collateral field ${key} is missing or not a string`, { location: { path: key } });
    }
  }
  return record as unknown as CollateralInput;
}

function verifySignedJson(text: string, signatureHex: string, chainPem: string, what: string, trustSimulator: boolean | undefined) {
  const certs = parseCertificates(chainPem, `${what} issuer chain`);
  const chain = buildChain(certs[0], [intelSgxRootCa()], [], certs.slice(1), { trustSimulator, prefix: 'sgx' });
  // Strict hex: Node's decoder would stop at the first stray character and ignore what follows.
  const signature = strictHex(signatureHex.trim()) ?? Buffer.alloc(0);
  let ok = false;
  try {
    ok = signature.length === 64 && cryptoVerify('sha256', Buffer.from(text, 'utf8'), { key: certs[0].publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw invalid(`the ${what} signature does not verify with ${commonName(certs[0])}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalid(`the ${what} is not JSON`, error);
  }
  return { chain, parsed };
}

/** Verified collateral by its two signatures; a hit is confirmed by comparing every field's text. */
const cache = new Map<string, { input: CollateralInput; verified: VerifiedCollateral }>();

export function clearCollateralCache(): void {
  cache.clear();
}

/** The same collateral object passed again (a service's cached collateral): confirmed field by field. */
const byObject = new WeakMap<CollateralInput, { trustSimulator: boolean; input: Record<string, unknown>; verified: VerifiedCollateral }>();

export function verifyCollateral(input: CollateralInput, trustSimulator: boolean | undefined, kind: CollateralKind = 'SGX'): VerifiedCollateral {
  const same = byObject.get(input);
  if (same && same.trustSimulator === (trustSimulator === true) && same.verified.kind === kind && REQUIRED.every((field) => same.input[field] === input[field])) return same.verified;
  const verified = verifyCollateralUncached(input, trustSimulator, kind);
  byObject.set(input, { trustSimulator: trustSimulator === true, input: Object.fromEntries(REQUIRED.map((f) => [f, input[f]])), verified });
  return verified;
}

function verifyCollateralUncached(input: CollateralInput, trustSimulator: boolean | undefined, kind: CollateralKind): VerifiedCollateral {
  const key = `${kind}:${trustSimulator ? 1 : 0}:${input.tcb_info_signature}:${input.qe_identity_signature}`;
  const hit = cache.get(key);
  if (hit && REQUIRED.every((field) => hit.input[field] === input[field])) return hit.verified;
  const tcb = verifySignedJson(input.tcb_info, input.tcb_info_signature, input.tcb_info_issuer_chain, 'TCB info', trustSimulator);
  const qe = verifySignedJson(input.qe_identity, input.qe_identity_signature, input.qe_identity_issuer_chain, 'QE identity', trustSimulator);
  const tcbInfo = tcb.parsed as TcbInfo;
  const qeIdentity = qe.parsed as QeIdentity;
  const sgxInfo = kind === 'SGX' && [2, 3].includes(tcbInfo?.version) && (tcbInfo.id === undefined || tcbInfo.id === 'SGX');
  const tdxInfo = kind === 'TDX' && tcbInfo?.version === 3 && tcbInfo.id === 'TDX';
  if (!Array.isArray(tcbInfo?.tcbLevels) || typeof tcbInfo.fmspc !== 'string' || !(sgxInfo || tdxInfo)) {
    throw invalid(kind === 'SGX' ? 'the TCB info is not SGX TCB info version 2 or 3' : 'the TCB info is not TDX TCB info (id TDX, version 3)');
  }
  if (!Array.isArray(qeIdentity?.tcbLevels) || qeIdentity.id !== (kind === 'SGX' ? 'QE' : 'TD_QE') || typeof qeIdentity.mrsigner !== 'string') {
    throw invalid(kind === 'SGX' ? 'the QE identity is not an SGX QE identity' : 'the QE identity is not a TDX quoting enclave identity (TD_QE)');
  }
  const window = (issue: string, next: string, what: string): Validity => {
    const w = { notBefore: new Date(issue), notAfter: new Date(next) };
    if (Number.isNaN(w.notBefore.getTime()) || Number.isNaN(w.notAfter.getTime())) throw invalid(`the ${what} has no valid issueDate/nextUpdate`);
    return w;
  };
  const result: VerifiedCollateral = {
    tcbInfo,
    qeIdentity,
    pckCrl: input.pck_crl === undefined ? undefined : parseCrl(input.pck_crl, 'PCK CRL'),
    rootCrl: input.root_ca_crl === undefined ? undefined : parseCrl(input.root_ca_crl, 'root CA CRL'),
    kind,
    windows: [
      { name: 'TCB info', window: window(tcbInfo.issueDate, tcbInfo.nextUpdate, 'TCB info') },
      { name: 'QE identity', window: window(qeIdentity.issueDate, qeIdentity.nextUpdate, 'QE identity') },
      ...[...tcb.chain.path, ...qe.chain.path].map((c) => ({ name: commonName(c), window: validity(c) })),
    ],
    signerChains: [tcb.chain.path, qe.chain.path],
  };
  if (cache.size > 64) cache.clear();
  cache.set(key, { input: Object.fromEntries(REQUIRED.map((field) => [field, input[field]])) as unknown as CollateralInput, verified: result });
  return result;
}

/** Collateral windows and certificates at `at`: expired collateral is `sgx_collateral_expired`. */
export function checkCollateralTime(c: VerifiedCollateral, at: Date): void {
  for (const { name, window } of c.windows) {
    if (name === 'TCB info' || name === 'QE identity') {
      if (at < window.notBefore || at > window.notAfter) {
        throw new AttestationError('sgx_collateral_expired', `the ${name} is valid ${window.notBefore.toISOString()} to ${window.notAfter.toISOString()}, not at ${at.toISOString()}`, {
          hint: 'fetch current collateral, or pass --at with the time the quote was appraised',
        });
      }
    } else checkValidity(name, window, at);
  }
}

/** The CRLs' thisUpdate/nextUpdate at `at` (for those present). */
export function checkCollateralCrlTimes(c: VerifiedCollateral, at: Date): void {
  if (c.pckCrl) checkCrlTime(c.pckCrl, at, 'PCK CRL');
  if (c.rootCrl) checkCrlTime(c.rootCrl, at, 'root CA CRL');
}

export interface TcbResult {
  status: string;
  advisoryIds: string[];
}

export function componentSvns(level: TcbLevel): number[] {
  if (Array.isArray(level.tcb.sgxtcbcomponents)) return level.tcb.sgxtcbcomponents.map((c) => c.svn);
  // TCB info v2 names them sgxtcbcomp01svn .. sgxtcbcomp16svn.
  return Array.from({ length: 16 }, (_, i) => Number(level.tcb[`sgxtcbcomp${String(i + 1).padStart(2, '0')}svn`]));
}

/** The first TCB level (they are ordered newest first) that the platform's PCK TCB meets. */
export function platformTcbStatus(info: TcbInfo, components: number[], pceSvn: number): TcbResult {
  for (const level of info.tcbLevels) {
    const svns = componentSvns(level);
    if (svns.length === 16 && svns.every((svn, i) => components[i] >= svn) && pceSvn >= level.tcb.pcesvn) {
      return { status: level.tcbStatus, advisoryIds: level.advisoryIDs ?? [] };
    }
  }
  throw new AttestationError('sgx_tcb_unrecognized', 'the platform TCB is below every level in the TCB info', { hint: 'the platform needs a microcode/BIOS update' });
}

/**
 * Intel's convergence of the platform TCB status with another component's (the QE identity's, or the
 * TDX module identity's): a revoked component revokes the whole; an out-of-date one makes an otherwise
 * current platform OutOfDate and a platform that needs configuration OutOfDateConfigurationNeeded;
 * anything else leaves the platform status as it is.
 */
export function convergeTcbStatus(platform: string, other: string | undefined): string {
  if (other === undefined || other === 'UpToDate') return platform;
  if (other === 'Revoked' || platform === 'Revoked') return 'Revoked';
  if (other === 'OutOfDate') {
    if (platform === 'UpToDate' || platform === 'SWHardeningNeeded') return 'OutOfDate';
    if (platform === 'ConfigurationNeeded' || platform === 'ConfigurationAndSWHardeningNeeded') return 'OutOfDateConfigurationNeeded';
  }
  return platform;
}

/** The QE identity: the QE report must match MRSIGNER, ISVPRODID and masked MISCSELECT/ATTRIBUTES; status by ISVSVN. */
export function qeTcbStatus(id: QeIdentity, qe: { mrSigner: Buffer; isvProdId: number; miscSelect: number; attributes: Buffer; isvSvn: number }): TcbResult {
  const masked = (value: Buffer, mask: Buffer): Buffer => Buffer.from(value.map((b, i) => b & (mask[i] ?? 0)));
  const misc = Buffer.alloc(4);
  misc.writeUInt32BE(qe.miscSelect >>> 0);
  const miscMask = Buffer.from(id.miscselectMask, 'hex');
  // MISCSELECT is a little-endian u32 in the report; Intel writes it as big-endian hex in the JSON.
  const miscOk = masked(misc, miscMask).equals(masked(Buffer.from(id.miscselect, 'hex'), miscMask));
  const attrMask = Buffer.from(id.attributesMask, 'hex');
  const attrOk = masked(qe.attributes, attrMask).equals(masked(Buffer.from(id.attributes, 'hex'), attrMask));
  if (!qe.mrSigner.equals(Buffer.from(id.mrsigner, 'hex')) || qe.isvProdId !== id.isvprodid || !miscOk || !attrOk) {
    throw new AttestationError('sgx_qe_identity_mismatch', 'the quoting enclave does not match the QE identity (MRSIGNER, ISVPRODID, MISCSELECT or ATTRIBUTES)');
  }
  for (const level of id.tcbLevels) {
    if (qe.isvSvn >= level.tcb.isvsvn) return { status: level.tcbStatus, advisoryIds: level.advisoryIDs ?? [] };
  }
  throw new AttestationError('sgx_qe_tcb_unrecognized', `the quoting enclave ISVSVN ${qe.isvSvn} is below every QE identity level`);
}
