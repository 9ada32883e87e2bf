/**
 * The Intel SGX DCAP ECDSA quote byte layout (versions 3 and 4, "Intel SGX ECDSA Quote Library API",
 * appendix A): parse and serialise only, no cryptography. All integers are little-endian.
 */
import { EvidenceFormatError } from '../claims.js';

export const HEADER_SIZE = 48;
export const REPORT_BODY_SIZE = 384;
/** The attestation key signs the header and the ISV enclave report body. */
export const SIGNED_QUOTE_LENGTH = HEADER_SIZE + REPORT_BODY_SIZE;
export const ATT_KEY_TYPE_ECDSA_P256 = 2;
export const TEE_TYPE_SGX = 0;
/** Certification data types: 5 = PCK certificate chain (PEM), 6 = QE report certification data (v4). */
export const CERT_TYPE_PCK_CHAIN = 5;
export const CERT_TYPE_QE_REPORT = 6;
/** An upper bound on a quote with a PEM chain inside; anything larger is refused before parsing. */
export const MAX_QUOTE_SIZE = 64 * 1024;

export interface SgxReportBody {
  cpuSvn: Buffer;
  miscSelect: number;
  attributes: Buffer;
  mrEnclave: Buffer;
  mrSigner: Buffer;
  isvProdId: number;
  isvSvn: number;
  reportData: Buffer;
  raw: Buffer;
}

export interface SgxQuote {
  version: number;
  attestationKeyType: number;
  teeType: number;
  qeSvn: number;
  pceSvn: number;
  qeVendorId: Buffer;
  userData: Buffer;
  body: SgxReportBody;
  /** Header + report body: what the attestation key signed. */
  signed: Buffer;
  /** r || s, 32 + 32 big-endian. */
  signature: Buffer;
  /** x || y of the P-256 attestation key. */
  attestationKey: Buffer;
  qeReport: SgxReportBody;
  qeReportSignature: Buffer;
  qeAuthData: Buffer;
  certType: number;
  certData: Buffer;
}

function truncated(what: string, kind = 'SGX'): EvidenceFormatError {
  return new EvidenceFormatError('evidence_truncated', `${kind} quote is truncated (in ${what})`, {
    location: { path: what },
    hint: 'pass the whole quote as the quoting enclave produced it',
  });
}

export function parseReportBody(raw: Buffer): SgxReportBody {
  return {
    cpuSvn: raw.subarray(0, 16),
    miscSelect: raw.readUInt32LE(16),
    attributes: raw.subarray(48, 64),
    mrEnclave: raw.subarray(64, 96),
    mrSigner: raw.subarray(128, 160),
    isvProdId: raw.readUInt16LE(256),
    isvSvn: raw.readUInt16LE(258),
    reportData: raw.subarray(320, 384),
    raw,
  };
}

/** A cursor that throws `evidence_truncated` instead of reading past the end (SGX and TDX quotes). */
export class Reader {
  constructor(
    private readonly buf: Buffer,
    public offset = 0,
    private readonly end = buf.length,
    private readonly kind = 'SGX',
  ) {}
  bytes(n: number, what: string): Buffer {
    if (this.offset + n > this.end) throw truncated(what, this.kind);
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  u16(what: string): number {
    return this.bytes(2, what).readUInt16LE(0);
  }
  u32(what: string): number {
    return this.bytes(4, what).readUInt32LE(0);
  }
}

export function parseQuote(buf: Buffer): SgxQuote {
  if (buf.length > MAX_QUOTE_SIZE) {
    throw new EvidenceFormatError('evidence_oversized', `SGX quote is ${buf.length} bytes, more than the ${MAX_QUOTE_SIZE} accepted`);
  }
  const r = new Reader(buf);
  const header = r.bytes(HEADER_SIZE, 'header');
  const version = header.readUInt16LE(0);
  if (version !== 3 && version !== 4) {
    throw new EvidenceFormatError('sgx_quote_version_unsupported', `SGX quote version ${version} is not supported (supported: 3, 4)`, { location: { path: 'header.version' } });
  }
  const attestationKeyType = header.readUInt16LE(2);
  if (attestationKeyType !== ATT_KEY_TYPE_ECDSA_P256) {
    throw new EvidenceFormatError('sgx_quote_unsupported', `SGX quote attestation key type ${attestationKeyType} is not ECDSA P-256 (2)`, { location: { path: 'header.att_key_type' } });
  }
  const teeType = header.readUInt32LE(4);
  if (teeType !== TEE_TYPE_SGX) {
    throw new EvidenceFormatError('sgx_quote_unsupported', `quote TEE type 0x${teeType.toString(16)} is not SGX (TDX quotes are not supported here)`, { location: { path: 'header.tee_type' } });
  }
  const body = parseReportBody(r.bytes(REPORT_BODY_SIZE, 'report_body'));
  const sigLen = r.u32('signature_data_len');
  if (r.offset + sigLen > buf.length) throw truncated('signature_data');
  if (r.offset + sigLen < buf.length) {
    throw new EvidenceFormatError('evidence_oversized', `SGX quote has ${buf.length - r.offset - sigLen} bytes after its signature data`, { hint: 'pass the quote alone' });
  }
  const s = new Reader(buf, r.offset, r.offset + sigLen);
  const signature = s.bytes(64, 'signature');
  const attestationKey = s.bytes(64, 'attestation_key');
  let qe = s;
  if (version === 4) {
    const outerType = s.u16('certification_data.type');
    const outerLen = s.u32('certification_data.size');
    if (outerType !== CERT_TYPE_QE_REPORT) {
      throw new EvidenceFormatError('sgx_quote_unsupported', `SGX v4 quote certification data type ${outerType} is not QE report data (6)`, { location: { path: 'certification_data.type' } });
    }
    qe = new Reader(buf, s.offset, s.offset + outerLen);
    s.bytes(outerLen, 'certification_data');
    if (s.offset !== r.offset + sigLen) throw new EvidenceFormatError('evidence_oversized', 'SGX v4 quote has bytes after its certification data');
  }
  const qeReport = parseReportBody(qe.bytes(REPORT_BODY_SIZE, 'qe_report'));
  const qeReportSignature = qe.bytes(64, 'qe_report_signature');
  const qeAuthData = qe.bytes(qe.u16('qe_auth_data.size'), 'qe_auth_data');
  const certType = qe.u16('certification_data.type');
  const certData = qe.bytes(qe.u32('certification_data.size'), 'certification_data');
  const end = version === 4 ? s.offset : r.offset + sigLen;
  if (qe.offset !== end) throw new EvidenceFormatError('evidence_oversized', 'SGX quote has bytes after its certification data');
  return {
    version,
    attestationKeyType,
    teeType,
    qeSvn: header.readUInt16LE(8),
    pceSvn: header.readUInt16LE(10),
    qeVendorId: header.subarray(12, 28),
    userData: header.subarray(28, 48),
    body,
    signed: buf.subarray(0, SIGNED_QUOTE_LENGTH),
    signature,
    attestationKey,
    qeReport,
    qeReportSignature,
    qeAuthData,
    certType,
    certData,
  };
}

export interface ReportBodyFields {
  cpuSvn?: Buffer;
  miscSelect?: number;
  attributes?: Buffer;
  mrEnclave?: Buffer;
  mrSigner?: Buffer;
  isvProdId?: number;
  isvSvn?: number;
  reportData?: Buffer;
}

export function serialiseReportBody(f: ReportBodyFields): Buffer {
  const out = Buffer.alloc(REPORT_BODY_SIZE);
  f.cpuSvn?.copy(out, 0, 0, 16);
  out.writeUInt32LE(f.miscSelect ?? 0, 16);
  f.attributes?.copy(out, 48, 0, 16);
  f.mrEnclave?.copy(out, 64, 0, 32);
  f.mrSigner?.copy(out, 128, 0, 32);
  out.writeUInt16LE(f.isvProdId ?? 0, 256);
  out.writeUInt16LE(f.isvSvn ?? 0, 258);
  f.reportData?.copy(out, 320, 0, 64);
  return out;
}

/** The Intel QE vendor ID (939A7233-F79C-4CA9-940A-0DB3957F0607). */
export const INTEL_QE_VENDOR_ID = Buffer.from('939a7233f79c4ca9940a0db3957f0607', 'hex');

export function serialiseHeader(f: { qeSvn: number; pceSvn: number; version?: 3 | 4 }): Buffer {
  const out = Buffer.alloc(HEADER_SIZE);
  out.writeUInt16LE(f.version ?? 3, 0);
  out.writeUInt16LE(ATT_KEY_TYPE_ECDSA_P256, 2);
  out.writeUInt16LE(f.qeSvn, 8);
  out.writeUInt16LE(f.pceSvn, 10);
  INTEL_QE_VENDOR_ID.copy(out, 12);
  return out;
}

const u16 = (n: number): Buffer => Buffer.from([n & 0xff, n >> 8]);
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

/**
 * Assembles a quote from its signed parts (the simulator signs them first). Version 3 puts the QE
 * report straight into the signature data; version 4 wraps it in certification data of type 6.
 */
export function serialiseQuote(p: {
  header: Buffer;
  body: Buffer;
  signature: Buffer;
  attestationKey: Buffer;
  qeReport: Buffer;
  qeReportSignature: Buffer;
  qeAuthData: Buffer;
  pckChainPem: Buffer;
}): Buffer {
  const qePart = Buffer.concat([
    p.qeReport,
    p.qeReportSignature,
    u16(p.qeAuthData.length),
    p.qeAuthData,
    u16(CERT_TYPE_PCK_CHAIN),
    u32(p.pckChainPem.length),
    p.pckChainPem,
  ]);
  const version = p.header.readUInt16LE(0);
  const sigData = Buffer.concat([
    p.signature,
    p.attestationKey,
    ...(version === 4 ? [u16(CERT_TYPE_QE_REPORT), u32(qePart.length), qePart] : [qePart]),
  ]);
  return Buffer.concat([p.header, p.body, u32(sigData.length), sigData]);
}
