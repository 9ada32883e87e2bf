/**
 * The Intel TDX DCAP quote byte layout ("Intel TDX DCAP Quoting Library API", appendix A): versions 4
 * and 5, parse and serialise only. All integers little-endian.
 *
 *   v4: header (48, TEE type 0x81) | TD report body (584)                     | u32 sig len | sig data
 *   v5: header (48)  | u16 body type (2 = TD 1.0, 3 = TD 1.5) | u32 body size | body (584 / 648) | ...
 *   sig data: ECDSA signature (64) | attestation key (64) | certification data type 6 { QE report (384),
 *             QE report signature (64), QE auth data (u16 + bytes), certification data type 5 (PCK chain) }
 * The attestation key signs everything before the signature data length.
 *
 * TD report body (TD 1.0): TEE_TCB_SVN 16, MRSEAM 48, MRSIGNERSEAM 48, SEAMATTRIBUTES 8, TDATTRIBUTES 8,
 * XFAM 8, MRTD 48, MRCONFIGID 48, MROWNER 48, MROWNERCONFIG 48, RTMR0-3 4 x 48, REPORTDATA 64;
 * TD 1.5 appends TEE_TCB_SVN_2 16 and MRSERVICETD 48.
 */
import { EvidenceFormatError } from '../claims.js';
import { Reader, ATT_KEY_TYPE_ECDSA_P256, CERT_TYPE_PCK_CHAIN, CERT_TYPE_QE_REPORT, HEADER_SIZE, REPORT_BODY_SIZE, parseReportBody, type SgxQuote } from '../sgx/abi.js';

export const TEE_TYPE_TDX = 0x81;
export const TD10_BODY_SIZE = 584;
export const TD15_BODY_SIZE = 648;
export const BODY_TYPE_TD10 = 2;
export const BODY_TYPE_TD15 = 3;
const MAX_QUOTE_SIZE = 64 * 1024;

export interface TdReportBody {
  teeTcbSvn: Buffer;
  mrSeam: Buffer;
  mrSignerSeam: Buffer;
  seamAttributes: Buffer;
  tdAttributes: Buffer;
  xfam: Buffer;
  mrTd: Buffer;
  mrConfigId: Buffer;
  mrOwner: Buffer;
  mrOwnerConfig: Buffer;
  rtmrs: Buffer[];
  reportData: Buffer;
  /** TD 1.5 only. */
  teeTcbSvn2?: Buffer;
  mrServiceTd?: Buffer;
}

/** The quote; the signature data parts have the SGX quote's shape (the same QE and PCK chain). */
export interface TdxQuote extends Pick<SgxQuote, 'signature' | 'attestationKey' | 'qeReport' | 'qeReportSignature' | 'qeAuthData' | 'certType' | 'certData'> {
  version: number;
  /** 2 (TD 1.0) or 3 (TD 1.5); v4 quotes are TD 1.0. */
  bodyType: number;
  qeSvn: number;
  pceSvn: number;
  qeVendorId: Buffer;
  body: TdReportBody;
  /** What the attestation key signed. */
  signed: Buffer;
}

function bad(code: string, message: string, path?: string): EvidenceFormatError {
  return new EvidenceFormatError(code, message, { location: path ? { path } : undefined, hint: code === 'evidence_truncated' ? 'pass the whole quote as the TD quoting enclave produced it' : undefined });
}

export function parseTdReportBody(raw: Buffer): TdReportBody {
  const at = (o: number, n: number): Buffer => raw.subarray(o, o + n);
  return {
    teeTcbSvn: at(0, 16),
    mrSeam: at(16, 48),
    mrSignerSeam: at(64, 48),
    seamAttributes: at(112, 8),
    tdAttributes: at(120, 8),
    xfam: at(128, 8),
    mrTd: at(136, 48),
    mrConfigId: at(184, 48),
    mrOwner: at(232, 48),
    mrOwnerConfig: at(280, 48),
    rtmrs: [0, 1, 2, 3].map((i) => at(328 + 48 * i, 48)),
    reportData: at(520, 64),
    ...(raw.length === TD15_BODY_SIZE ? { teeTcbSvn2: at(584, 16), mrServiceTd: at(600, 48) } : {}),
  };
}

/**
 * Parses a v4 or v5 TDX quote. Bytes after the signature data are refused unless they are all zero
 * (quotes read from a fixed-size buffer carry zero padding; nothing there is signed or read).
 */
export function parseTdxQuote(buf: Buffer): TdxQuote {
  if (buf.length > MAX_QUOTE_SIZE) throw bad('evidence_oversized', `TDX quote is ${buf.length} bytes, more than the ${MAX_QUOTE_SIZE} accepted`);
  const r = new Reader(buf, 0, buf.length, 'TDX');
  const header = r.bytes(HEADER_SIZE, 'header');
  const version = header.readUInt16LE(0);
  if (version !== 4 && version !== 5) throw bad('tdx_quote_version_unsupported', `TDX quote version ${version} is not supported (supported: 4, 5)`, 'header.version');
  if (header.readUInt16LE(2) !== ATT_KEY_TYPE_ECDSA_P256) throw bad('tdx_quote_unsupported', `TDX quote attestation key type ${header.readUInt16LE(2)} is not ECDSA P-256 (2)`, 'header.att_key_type');
  if (header.readUInt32LE(4) !== TEE_TYPE_TDX) throw bad('tdx_quote_unsupported', `quote TEE type 0x${header.readUInt32LE(4).toString(16)} is not TDX (0x81)`, 'header.tee_type');
  let bodyType = BODY_TYPE_TD10;
  let bodySize = TD10_BODY_SIZE;
  if (version === 5) {
    bodyType = r.u16('body.type');
    bodySize = r.u32('body.size');
    const expected = bodyType === BODY_TYPE_TD10 ? TD10_BODY_SIZE : bodyType === BODY_TYPE_TD15 ? TD15_BODY_SIZE : undefined;
    if (expected === undefined) throw bad('tdx_quote_unsupported', `TDX v5 body type ${bodyType} is not a TD report (2 = TD 1.0, 3 = TD 1.5)`, 'body.type');
    if (bodySize !== expected) throw bad('evidence_malformed', `TDX v5 body of type ${bodyType} has size ${bodySize}, expected ${expected}`, 'body.size');
  }
  const body = parseTdReportBody(r.bytes(bodySize, 'body'));
  const signed = buf.subarray(0, r.offset);
  const sigLen = r.u32('signature_data_len');
  const sigEnd = r.offset + sigLen;
  if (sigEnd > buf.length) throw bad('evidence_truncated', 'TDX quote is truncated (in signature_data)', 'signature_data');
  if (buf.subarray(sigEnd).some((b) => b !== 0)) throw bad('evidence_oversized', `TDX quote has ${buf.length - sigEnd} non-padding bytes after its signature data`, 'signature_data');
  const s = new Reader(buf, r.offset, sigEnd, 'TDX');
  const signature = s.bytes(64, 'signature');
  const attestationKey = s.bytes(64, 'attestation_key');
  const outerType = s.u16('certification_data.type');
  if (outerType !== CERT_TYPE_QE_REPORT) throw bad('tdx_quote_unsupported', `TDX quote certification data type ${outerType} is not QE report data (6)`, 'certification_data.type');
  const outerLen = s.u32('certification_data.size');
  if (s.offset + outerLen !== sigEnd) throw bad('evidence_malformed', 'TDX quote certification data size disagrees with the signature data length', 'certification_data.size');
  const qe = new Reader(buf, s.offset, sigEnd, 'TDX');
  const qeReport = parseReportBody(qe.bytes(REPORT_BODY_SIZE, 'qe_report'));
  const qeReportSignature = qe.bytes(64, 'qe_report_signature');
  const qeAuthData = qe.bytes(qe.u16('qe_auth_data.size'), 'qe_auth_data');
  const certType = qe.u16('certification_data.type');
  const certData = qe.bytes(qe.u32('certification_data.size'), 'certification_data');
  if (qe.offset !== sigEnd) throw bad('evidence_malformed', 'TDX quote has bytes after its PCK certification data', 'certification_data');
  return {
    version,
    bodyType,
    qeSvn: header.readUInt16LE(8),
    pceSvn: header.readUInt16LE(10),
    qeVendorId: header.subarray(12, 28),
    body,
    signed,
    signature,
    attestationKey,
    qeReport,
    qeReportSignature,
    qeAuthData,
    certType,
    certData,
  };
}

export { CERT_TYPE_PCK_CHAIN };

const u16 = (n: number): Buffer => Buffer.from([n & 0xff, n >> 8]);
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

/** The signed prefix of a quote: header, then (v5) body type and size, then the body. */
export function tdxSignedPart(header: Buffer, body: Buffer): Buffer {
  if (header.readUInt16LE(0) === 4) return Buffer.concat([header, body]);
  return Buffer.concat([header, u16(body.length === TD15_BODY_SIZE ? BODY_TYPE_TD15 : BODY_TYPE_TD10), u32(body.length), body]);
}

export function serialiseTdxQuote(p: { signedPart: Buffer; signature: Buffer; attestationKey: Buffer; qeReport: Buffer; qeReportSignature: Buffer; qeAuthData: Buffer; pckChainPem: Buffer }): Buffer {
  const qePart = Buffer.concat([p.qeReport, p.qeReportSignature, u16(p.qeAuthData.length), p.qeAuthData, u16(CERT_TYPE_PCK_CHAIN), u32(p.pckChainPem.length), p.pckChainPem]);
  const sigData = Buffer.concat([p.signature, p.attestationKey, u16(CERT_TYPE_QE_REPORT), u32(qePart.length), qePart]);
  return Buffer.concat([p.signedPart, u32(sigData.length), sigData]);
}

export interface TdBodyFields {
  teeTcbSvn?: Buffer;
  mrSeam?: Buffer;
  tdAttributes?: Buffer;
  xfam?: Buffer;
  mrTd?: Buffer;
  rtmrs?: Buffer[];
  reportData?: Buffer;
  /** Produce a TD 1.5 body (648 bytes). */
  td15?: boolean;
}

export function serialiseTdReportBody(f: TdBodyFields): Buffer {
  const out = Buffer.alloc(f.td15 ? TD15_BODY_SIZE : TD10_BODY_SIZE);
  f.teeTcbSvn?.copy(out, 0, 0, 16);
  f.mrSeam?.copy(out, 16, 0, 48);
  f.tdAttributes?.copy(out, 120, 0, 8);
  f.xfam?.copy(out, 128, 0, 8);
  f.mrTd?.copy(out, 136, 0, 48);
  f.rtmrs?.forEach((r, i) => r.copy(out, 328 + 48 * i, 0, 48));
  f.reportData?.copy(out, 520, 0, 64);
  return out;
}
