/**
 * A minimal DER reader and writer: just enough ASN.1 to read X.509 extensions, CRLs and AMD/Intel
 * vendor extensions, and to build the simulator's certificates. Definite lengths only (DER forbids the
 * rest); anything malformed throws a DerError, which callers turn into their own typed error.
 */

export class DerError extends Error {}

/** One tag-length-value element; `value` is a view into the input, `raw` is the whole encoding. */
export interface DerNode {
  tag: number;
  value: Buffer;
  raw: Buffer;
}

export const Tag = {
  Boolean: 0x01,
  Integer: 0x02,
  BitString: 0x03,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Utf8String: 0x0c,
  PrintableString: 0x13,
  Ia5String: 0x16,
  UtcTime: 0x17,
  GeneralizedTime: 0x18,
  Sequence: 0x30,
  Set: 0x31,
} as const;

/** Reads the element starting at `offset`. */
export function readNode(buf: Buffer, offset = 0): DerNode {
  if (offset + 2 > buf.length) throw new DerError('DER element truncated');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not supported');
  let len = buf[offset + 1];
  let header = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('unsupported DER length');
    if (offset + 2 + n > buf.length) throw new DerError('DER length truncated');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[offset + 2 + i];
    header += n;
    // DER: the shortest length form only (no leading zero octet, long form only from 128 on).
    if (buf[offset + 2] === 0 || len < 0x80) throw new DerError('non-minimal DER length');
  }
  const end = offset + header + len;
  if (end > buf.length) throw new DerError('DER value truncated');
  return { tag, value: buf.subarray(offset + header, end), raw: buf.subarray(offset, end) };
}

/** Reads a whole buffer that must hold exactly one element. */
export function readOne(buf: Buffer): DerNode {
  const node = readNode(buf, 0);
  if (node.raw.length !== buf.length) throw new DerError('trailing bytes after DER element');
  return node;
}

/** The children of a constructed element (SEQUENCE, SET, context tag). */
export function children(node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  let offset = 0;
  while (offset < node.value.length) {
    const child = readNode(node.value, offset);
    out.push(child);
    offset += child.raw.length;
  }
  return out;
}

export function expectTag(node: DerNode, tag: number, what: string): DerNode {
  if (node.tag !== tag) throw new DerError(`${what}: expected DER tag 0x${tag.toString(16)}, found 0x${node.tag.toString(16)}`);
  return node;
}

/**
 * The parts of a signed X.509 structure (certificate, CRL), read strictly: SEQUENCE of exactly
 * { tbs SEQUENCE, AlgorithmIdentifier SEQUENCE { OID, params? }, BIT STRING with 0 unused bits },
 * nothing after it, and the outer AlgorithmIdentifier byte-identical to the one inside the signed
 * TBS (`tbsAlgorithm` picks it). Then every byte is either signed, a copy of signed bytes, or the
 * signature: no single-byte edit can pass unnoticed.
 */
export interface SignedEnvelope {
  tbs: DerNode;
  tbsFields: DerNode[];
  algorithm: string;
  signature: Buffer;
}

export function readSignedEnvelope(der: Buffer, tbsAlgorithm: (tbsFields: DerNode[]) => DerNode | undefined): SignedEnvelope {
  const outer = expectTag(readOne(der), Tag.Sequence, 'signed structure');
  const parts = children(outer);
  if (parts.length !== 3) throw new DerError(`signed structure has ${parts.length} elements, expected 3`);
  const [tbs, alg, sig] = parts;
  const tbsFields = children(expectTag(tbs, Tag.Sequence, 'TBS'));
  const algParts = children(expectTag(alg, Tag.Sequence, 'signatureAlgorithm'));
  if (algParts.length < 1 || algParts.length > 2) throw new DerError('signatureAlgorithm must hold an OID and at most one parameter');
  const algorithm = decodeOid(expectTag(algParts[0], Tag.Oid, 'signatureAlgorithm OID').value);
  const inner = tbsAlgorithm(tbsFields);
  if (!inner || !inner.raw.equals(alg.raw)) throw new DerError('signatureAlgorithm differs from the one inside the signed part');
  const bits = expectTag(sig, Tag.BitString, 'signatureValue').value;
  if (bits.length < 2 || bits[0] !== 0) throw new DerError('signatureValue must be a BIT STRING with 0 unused bits');
  return { tbs, tbsFields, algorithm, signature: bits.subarray(1) };
}

/** Decodes an OBJECT IDENTIFIER value to dotted form. */
export function decodeOid(value: Buffer): string {
  if (value.length === 0) throw new DerError('empty OID');
  const parts: number[] = [];
  let acc = 0;
  for (const byte of value) {
    acc = acc * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(acc);
      acc = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

/** Decodes a non-negative INTEGER that fits a JS number (SVNs, versions). */
export function decodeSmallUint(node: DerNode): number {
  expectTag(node, Tag.Integer, 'integer');
  if (node.value.length === 0 || node.value.length > 6) throw new DerError('integer out of range');
  if (node.value[0] & 0x80) throw new DerError('negative integer');
  return node.value.readUIntBE(0, node.value.length);
}

/** Decodes UTCTime / GeneralizedTime. */
export function decodeTime(node: DerNode): Date {
  const text = node.value.toString('latin1');
  let m: RegExpExecArray | null;
  if (node.tag === Tag.UtcTime && (m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text))) {
    const yy = Number(m[1]);
    return new Date(Date.UTC(yy < 50 ? 2000 + yy : 1900 + yy, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  if (node.tag === Tag.GeneralizedTime && (m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text))) {
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  throw new DerError(`unsupported time encoding: ${text}`);
}

// ---- writer ----

function encodeLength(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  const bytes: number[] = [];
  for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(value.length), value]);
}

export const seq = (...items: Buffer[]): Buffer => tlv(Tag.Sequence, Buffer.concat(items));
export const set = (...items: Buffer[]): Buffer => tlv(Tag.Set, Buffer.concat(items));
export const octets = (value: Buffer): Buffer => tlv(Tag.OctetString, value);
export const bitString = (value: Buffer): Buffer => tlv(Tag.BitString, Buffer.concat([Buffer.from([0]), value]));
export const utf8 = (text: string): Buffer => tlv(Tag.Utf8String, Buffer.from(text, 'utf8'));
export const ia5 = (text: string): Buffer => tlv(Tag.Ia5String, Buffer.from(text, 'latin1'));
export const bool = (value: boolean): Buffer => tlv(Tag.Boolean, Buffer.from([value ? 0xff : 0]));
/** Context-specific constructed tag `[n]` (explicit tagging). */
export const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);

/** INTEGER from a non-negative number or unsigned big-endian bytes. */
export function integer(value: number | Buffer): Buffer {
  let bytes: Buffer;
  if (typeof value === 'number') {
    const out: number[] = [];
    for (let n = value; n > 0; n = Math.floor(n / 256)) out.unshift(n & 0xff);
    bytes = Buffer.from(out.length ? out : [0]);
  } else {
    let start = 0;
    while (start < value.length - 1 && value[start] === 0) start++;
    bytes = value.subarray(start);
  }
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(Tag.Integer, bytes);
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [parts[0] * 40 + parts[1]];
  for (const part of parts.slice(2)) {
    const group: number[] = [];
    let n = part;
    do {
      group.unshift(n & 0x7f);
      n = Math.floor(n / 128);
    } while (n > 0);
    for (let i = 0; i < group.length - 1; i++) group[i] |= 0x80;
    out.push(...group);
  }
  return tlv(Tag.Oid, Buffer.from(out));
}

/** GeneralizedTime for years >= 2050, UTCTime otherwise (RFC 5280 4.1.2.5). */
export function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return date.getUTCFullYear() >= 2050 ? tlv(Tag.GeneralizedTime, Buffer.from(iso)) : tlv(Tag.UtcTime, Buffer.from(iso.slice(2)));
}
