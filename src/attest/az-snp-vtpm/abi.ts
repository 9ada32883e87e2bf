/**
 * Byte layouts of Azure's vTPM evidence (no crypto here).
 *
 * HCL report (Azure's paravisor, read from vTPM NV index 0x01400001):
 *   0x000  header: "HCLA" u32 signature, version, report_size, request_type, status, 12 reserved bytes
 *   0x020  the 1184-byte SEV-SNP ATTESTATION_REPORT
 *   0x4C0  IGVM request data: data_size, version, report_type (2 = SNP), hash_type (1 SHA-256,
 *          2 SHA-384, 3 SHA-512), variable_data_size, then the runtime data (a JSON block)
 *   All u32 little-endian. REPORT_DATA[0..hash length] = hash_type hash of the runtime data.
 *
 * TPMS_ATTEST of a TPM2_Quote (big-endian, TPM 2.0 Part 2 10.12): magic 0xff544347, type 0x8018,
 * qualifiedSigner TPM2B_NAME, extraData TPM2B (the nonce), clockInfo (u64, u32, u32, u8),
 * firmwareVersion u64, TPMS_QUOTE_INFO { TPML_PCR_SELECTION, pcrDigest TPM2B }.
 */
import { EvidenceFormatError } from '../claims.js';
import { REPORT_SIZE } from '../snp/abi.js';

export const HCL_SIGNATURE = 0x414c4348; // "HCLA"
export const HCL_HEADER_SIZE = 0x20;
export const IGVM_OFFSET = HCL_HEADER_SIZE + REPORT_SIZE;
export const IGVM_HEADER_SIZE = 20;
export const REPORT_TYPE_SNP = 2;
export const HASH_TYPES: Record<number, 'sha256' | 'sha384' | 'sha512'> = { 1: 'sha256', 2: 'sha384', 3: 'sha512' };

export const TPM_GENERATED = 0xff544347;
export const TPM_ST_ATTEST_QUOTE = 0x8018;
export const TPM_ALG_SHA256 = 0x000b;

function bad(code: string, message: string, path: string): EvidenceFormatError {
  return new EvidenceFormatError(code, message, { location: { path } });
}

export interface HclReport {
  snpReport: Buffer;
  reportType: number;
  hashType: number;
  runtimeData: Buffer;
}

export function parseHclReport(buf: Buffer): HclReport {
  if (buf.length < IGVM_OFFSET + IGVM_HEADER_SIZE) throw bad('evidence_truncated', `HCL report is ${buf.length} bytes, too short`, 'hcl_report');
  if (buf.readUInt32LE(0) !== HCL_SIGNATURE) throw bad('evidence_malformed', 'HCL report does not start with "HCLA"', 'hcl_report');
  const dataSize = buf.readUInt32LE(IGVM_OFFSET);
  const variableSize = buf.readUInt32LE(IGVM_OFFSET + 16);
  const start = IGVM_OFFSET + IGVM_HEADER_SIZE;
  if (dataSize !== IGVM_HEADER_SIZE + variableSize || start + variableSize > buf.length) {
    throw bad('evidence_malformed', `HCL runtime data sizes disagree (data_size ${dataSize}, variable_data_size ${variableSize}, ${buf.length} bytes)`, 'hcl_report.runtime_data');
  }
  // Azure pads the report with zeros after the runtime data; anything else there is refused.
  if (buf.subarray(start + variableSize).some((b) => b !== 0)) throw bad('evidence_malformed', 'HCL report has non-zero bytes after its runtime data', 'hcl_report');
  return {
    snpReport: buf.subarray(HCL_HEADER_SIZE, IGVM_OFFSET),
    reportType: buf.readUInt32LE(IGVM_OFFSET + 8),
    hashType: buf.readUInt32LE(IGVM_OFFSET + 12),
    runtimeData: buf.subarray(start, start + variableSize),
  };
}

export function serialiseHclReport(snpReport: Buffer, runtimeData: Buffer, hashType = 1): Buffer {
  const header = Buffer.alloc(HCL_HEADER_SIZE);
  header.writeUInt32LE(HCL_SIGNATURE, 0);
  header.writeUInt32LE(1, 4);
  header.writeUInt32LE(IGVM_OFFSET + IGVM_HEADER_SIZE + runtimeData.length, 8);
  header.writeUInt32LE(2, 12);
  const igvm = Buffer.alloc(IGVM_HEADER_SIZE);
  igvm.writeUInt32LE(IGVM_HEADER_SIZE + runtimeData.length, 0);
  igvm.writeUInt32LE(1, 4);
  igvm.writeUInt32LE(REPORT_TYPE_SNP, 8);
  igvm.writeUInt32LE(hashType, 12);
  igvm.writeUInt32LE(runtimeData.length, 16);
  return Buffer.concat([header, snpReport, igvm, runtimeData]);
}

export interface TpmQuoteInfo {
  extraData: Buffer;
  /** Selected PCR indices per hash algorithm. */
  selections: { hash: number; pcrs: number[] }[];
  pcrDigest: Buffer;
}

class BeReader {
  offset = 0;
  constructor(private readonly buf: Buffer) {}
  need(n: number, what: string): void {
    if (this.offset + n > this.buf.length) throw bad('evidence_truncated', `TPM quote truncated at ${what}`, `tpm_quote.message.${what}`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf.readUInt8(this.offset++);
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
  tpm2b(what: string): Buffer {
    return this.bytes(this.u16(what), what);
  }
  get done(): boolean {
    return this.offset === this.buf.length;
  }
}

export function parseTpmsAttest(message: Buffer): TpmQuoteInfo {
  const r = new BeReader(message);
  if (r.u32('magic') !== TPM_GENERATED) throw bad('evidence_malformed', 'TPM quote magic is not TPM_GENERATED_VALUE', 'tpm_quote.message.magic');
  if (r.u16('type') !== TPM_ST_ATTEST_QUOTE) throw bad('evidence_malformed', 'TPM attestation is not a quote (TPM_ST_ATTEST_QUOTE)', 'tpm_quote.message.type');
  r.tpm2b('qualifiedSigner');
  const extraData = r.tpm2b('extraData');
  r.bytes(8 + 4 + 4 + 1, 'clockInfo');
  r.bytes(8, 'firmwareVersion');
  const count = r.u32('pcrSelect.count');
  if (count > 16) throw bad('evidence_malformed', `TPM quote selects ${count} PCR banks`, 'tpm_quote.message.pcrSelect');
  const selections: TpmQuoteInfo['selections'] = [];
  for (let i = 0; i < count; i++) {
    const hash = r.u16('pcrSelect.hash');
    const bitmap = r.bytes(r.u8('pcrSelect.sizeofSelect'), 'pcrSelect.select');
    const pcrs: number[] = [];
    bitmap.forEach((byte, n) => {
      for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) pcrs.push(n * 8 + bit);
    });
    selections.push({ hash, pcrs });
  }
  const pcrDigest = r.tpm2b('pcrDigest');
  if (!r.done) throw bad('evidence_oversized', 'TPM quote has bytes after its pcrDigest', 'tpm_quote.message');
  return { extraData, selections, pcrDigest };
}

export function serialiseTpmsAttest(extraData: Buffer, pcrs: number[], pcrDigest: Buffer): Buffer {
  const u16 = (v: number): Buffer => Buffer.from([v >> 8, v & 0xff]);
  const u32 = (v: number): Buffer => Buffer.from([v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]);
  const name = Buffer.concat([u16(TPM_ALG_SHA256), Buffer.alloc(32, 0x5a)]);
  const bitmap = Buffer.alloc(3);
  for (const p of pcrs) bitmap[p >> 3] |= 1 << (p & 7);
  return Buffer.concat([
    u32(TPM_GENERATED), u16(TPM_ST_ATTEST_QUOTE), u16(name.length), name, u16(extraData.length), extraData,
    Buffer.alloc(17), Buffer.alloc(8), u32(1), u16(TPM_ALG_SHA256), Buffer.from([3]), bitmap, u16(pcrDigest.length), pcrDigest,
  ]);
}
