/**
 * The SEV-SNP ATTESTATION_REPORT byte layout (AMD SEV-SNP ABI spec, table "ATTESTATION_REPORT
 * Structure"): parse and serialise only, no cryptography. All integers are little-endian.
 */
import { EvidenceFormatError, type SnpPolicy, type TcbVersion } from '../claims.js';

export const REPORT_SIZE = 0x4a0; // 1184
/** The signature covers bytes 0x000..0x29F. */
export const SIGNED_LENGTH = 0x2a0;
const SIG_R = 0x2a0;
const SIG_S = 0x2e8;
const SIG_COMPONENT = 72;
export const SUPPORTED_VERSIONS = [2, 3, 5] as const;
/** SIGNATURE_ALGO 1: ECDSA P-384 with SHA-384. */
export const SIG_ALGO_ECDSA_P384_SHA384 = 1;

export type TcbLayout = 'milan' | 'turin';

/** The fields of a report, with TCB values still as raw u64s (their layout depends on the product). */
export interface SnpReport {
  version: number;
  guestSvn: number;
  policy: bigint;
  familyId: Buffer;
  imageId: Buffer;
  vmpl: number;
  signatureAlgo: number;
  currentTcb: bigint;
  platformInfo: bigint;
  /** Bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 2-4 SIGNING_KEY (0 VCEK, 1 VLEK, 7 none). */
  flags: number;
  reportData: Buffer;
  measurement: Buffer;
  hostData: Buffer;
  idKeyDigest: Buffer;
  authorKeyDigest: Buffer;
  reportId: Buffer;
  reportIdMa: Buffer;
  reportedTcb: bigint;
  /** CPUID family/model/stepping (version 3 and later; zero before). */
  cpuidFamily: number;
  cpuidModel: number;
  cpuidStepping: number;
  chipId: Buffer;
  committedTcb: bigint;
  launchTcb: bigint;
  /** The signed bytes 0x000..0x29F (a view into the input). */
  signed: Buffer;
  /** r || s, each 48 bytes big-endian (as node's ieee-p1363 encoding wants). */
  signature: Buffer;
}

function leToBe48(field: Buffer): Buffer {
  return Buffer.from(field).reverse();
}

export function parseReport(buf: Buffer): SnpReport {
  if (buf.length < REPORT_SIZE) {
    throw new EvidenceFormatError('evidence_truncated', `SEV-SNP report is ${buf.length} bytes, expected ${REPORT_SIZE}`, {
      hint: 'pass the whole ATTESTATION_REPORT as returned by the SNP_GET_REPORT ioctl / the host',
    });
  }
  if (buf.length > REPORT_SIZE) {
    throw new EvidenceFormatError('evidence_oversized', `SEV-SNP report is ${buf.length} bytes, expected ${REPORT_SIZE}`, {
      hint: 'pass the report alone; certificates go in --cert',
    });
  }
  const version = buf.readUInt32LE(0x00);
  if (!(SUPPORTED_VERSIONS as readonly number[]).includes(version)) {
    throw new EvidenceFormatError('snp_report_version_unsupported', `SEV-SNP report version ${version} is not supported (supported: ${SUPPORTED_VERSIONS.join(', ')})`, {
      location: { path: 'version' },
    });
  }
  return {
    version,
    guestSvn: buf.readUInt32LE(0x04),
    policy: buf.readBigUInt64LE(0x08),
    familyId: buf.subarray(0x10, 0x20),
    imageId: buf.subarray(0x20, 0x30),
    vmpl: buf.readUInt32LE(0x30),
    signatureAlgo: buf.readUInt32LE(0x34),
    currentTcb: buf.readBigUInt64LE(0x38),
    platformInfo: buf.readBigUInt64LE(0x40),
    flags: buf.readUInt32LE(0x48),
    reportData: buf.subarray(0x50, 0x90),
    measurement: buf.subarray(0x90, 0xc0),
    hostData: buf.subarray(0xc0, 0xe0),
    idKeyDigest: buf.subarray(0xe0, 0x110),
    authorKeyDigest: buf.subarray(0x110, 0x140),
    reportId: buf.subarray(0x140, 0x160),
    reportIdMa: buf.subarray(0x160, 0x180),
    reportedTcb: buf.readBigUInt64LE(0x180),
    cpuidFamily: version >= 3 ? buf[0x188] : 0,
    cpuidModel: version >= 3 ? buf[0x189] : 0,
    cpuidStepping: version >= 3 ? buf[0x18a] : 0,
    chipId: buf.subarray(0x1a0, 0x1e0),
    committedTcb: buf.readBigUInt64LE(0x1e0),
    launchTcb: buf.readBigUInt64LE(0x1f0),
    signed: buf.subarray(0, SIGNED_LENGTH),
    signature: Buffer.concat([leToBe48(buf.subarray(SIG_R, SIG_R + 48)), leToBe48(buf.subarray(SIG_S, SIG_S + 48))]),
    ...checkUnsignedTail(buf),
  };
}

/**
 * Bytes outside the signed region that carry no signature bits must be zero: the high 24 bytes of R
 * and S (a P-384 value has 48) and the reserved tail after S. Refusing them keeps every byte of an
 * accepted report meaningful, so no altered copy of a report is ever accepted.
 */
function checkUnsignedTail(buf: Buffer): Record<string, never> {
  const zeroRanges: [number, number][] = [
    [SIG_R + 48, SIG_R + SIG_COMPONENT],
    [SIG_S + 48, REPORT_SIZE],
  ];
  for (const [from, to] of zeroRanges) {
    if (buf.subarray(from, to).some((b) => b !== 0)) {
      throw new EvidenceFormatError('snp_signature_malformed', `SEV-SNP report has non-zero bytes in the unused signature area 0x${from.toString(16)}..0x${(to - 1).toString(16)}`, {
        location: { path: 'signature' },
      });
    }
  }
  return {};
}

/** Fields a caller may set when building a report (the simulator); the rest are zero. */
export interface SnpReportFields {
  version?: number;
  guestSvn?: number;
  policy?: bigint;
  familyId?: Buffer;
  imageId?: Buffer;
  vmpl?: number;
  currentTcb?: bigint;
  platformInfo?: bigint;
  flags?: number;
  reportData?: Buffer;
  measurement?: Buffer;
  hostData?: Buffer;
  idKeyDigest?: Buffer;
  authorKeyDigest?: Buffer;
  reportId?: Buffer;
  reportedTcb?: bigint;
  cpuidFamily?: number;
  cpuidModel?: number;
  chipId?: Buffer;
  committedTcb?: bigint;
  launchTcb?: bigint;
}

/** Serialises the signed part (0x000..0x29F) of a report; `withSignature` fills in R and S. */
export function serialiseReport(fields: SnpReportFields): Buffer {
  const buf = Buffer.alloc(REPORT_SIZE);
  const put = (offset: number, size: number, value: Buffer | undefined): void => {
    if (value) value.subarray(0, size).copy(buf, offset);
  };
  buf.writeUInt32LE(fields.version ?? 2, 0x00);
  buf.writeUInt32LE(fields.guestSvn ?? 0, 0x04);
  buf.writeBigUInt64LE(fields.policy ?? 0x30000n, 0x08);
  put(0x10, 16, fields.familyId);
  put(0x20, 16, fields.imageId);
  buf.writeUInt32LE(fields.vmpl ?? 0, 0x30);
  buf.writeUInt32LE(SIG_ALGO_ECDSA_P384_SHA384, 0x34);
  buf.writeBigUInt64LE(fields.currentTcb ?? fields.reportedTcb ?? 0n, 0x38);
  buf.writeBigUInt64LE(fields.platformInfo ?? 0n, 0x40);
  buf.writeUInt32LE(fields.flags ?? 0, 0x48);
  put(0x50, 64, fields.reportData);
  put(0x90, 48, fields.measurement);
  put(0xc0, 32, fields.hostData);
  put(0xe0, 48, fields.idKeyDigest);
  put(0x110, 48, fields.authorKeyDigest);
  put(0x140, 32, fields.reportId);
  buf.writeBigUInt64LE(fields.reportedTcb ?? 0n, 0x180);
  if ((fields.version ?? 2) >= 3) {
    buf[0x188] = fields.cpuidFamily ?? 0;
    buf[0x189] = fields.cpuidModel ?? 0;
  }
  put(0x1a0, 64, fields.chipId);
  buf.writeBigUInt64LE(fields.committedTcb ?? fields.reportedTcb ?? 0n, 0x1e0);
  buf.writeBigUInt64LE(fields.launchTcb ?? fields.reportedTcb ?? 0n, 0x1f0);
  return buf;
}

/** Writes an r || s (48+48 big-endian) signature into a serialised report, in AMD's 72-byte LE form. */
export function withSignature(report: Buffer, rs: Buffer): Buffer {
  const out = Buffer.from(report);
  out.fill(0, SIG_R, SIG_S + SIG_COMPONENT);
  Buffer.from(rs.subarray(0, 48)).reverse().copy(out, SIG_R);
  Buffer.from(rs.subarray(48, 96)).reverse().copy(out, SIG_S);
  return out;
}

// ---- TCB_VERSION and guest policy ----

const hex16 = (v: bigint): string => v.toString(16).padStart(16, '0');
const byteAt = (v: bigint, i: number): number => Number((v >> BigInt(8 * i)) & 0xffn);

/** Splits a TCB_VERSION. Milan and Genoa: bootloader, TEE, 4 reserved, SNP, microcode. Turin: FMC, bootloader, TEE, SNP, 3 reserved, microcode. */
export function decodeTcb(value: bigint, layout: TcbLayout): TcbVersion {
  if (layout === 'turin') {
    return { fmc: byteAt(value, 0), bootloader: byteAt(value, 1), tee: byteAt(value, 2), snp: byteAt(value, 3), microcode: byteAt(value, 7), raw: hex16(value) };
  }
  return { bootloader: byteAt(value, 0), tee: byteAt(value, 1), snp: byteAt(value, 6), microcode: byteAt(value, 7), raw: hex16(value) };
}

export function encodeTcb(tcb: Omit<TcbVersion, 'raw'>, layout: TcbLayout): bigint {
  const bytes = new Array<number>(8).fill(0);
  if (layout === 'turin') {
    [bytes[0], bytes[1], bytes[2], bytes[3], bytes[7]] = [tcb.fmc ?? 0, tcb.bootloader, tcb.tee, tcb.snp, tcb.microcode];
  } else {
    [bytes[0], bytes[1], bytes[6], bytes[7]] = [tcb.bootloader, tcb.tee, tcb.snp, tcb.microcode];
  }
  return bytes.reduceRight((acc, b) => (acc << 8n) | BigInt(b & 0xff), 0n);
}

/** Guest policy bits (SNP ABI "GUEST_POLICY"). */
export function decodePolicy(value: bigint): SnpPolicy {
  const bit = (n: number): boolean => ((value >> BigInt(n)) & 1n) === 1n;
  return {
    raw: hex16(value),
    abiMinor: byteAt(value, 0),
    abiMajor: byteAt(value, 1),
    smt: bit(16),
    migrateMa: bit(18),
    debug: bit(19),
    singleSocket: bit(20),
  };
}

export const POLICY_DEBUG_BIT = 1n << 19n;
/** Bit 17 is reserved and must be one. */
export const POLICY_RESERVED_ONE = 1n << 17n;
