/**
 * A push-based tar reader: feed the decompressed layer in chunks of any size, get one `TarEntry` per
 * member with the facts the tarfs index needs (type, byte offsets, size, names, mode, owner, mtime,
 * device numbers). Memory stays constant: entry data is skipped unless the caller asks to capture it.
 *
 * It follows the reading rules of the Rust `tar` crate that Kata's `tarindex` uses, so our index matches
 * upstream: GNU long names (`L`) and long link names (`K`) win over PAX `path` / `linkpath`, which win
 * over the header (ustar `prefix/name` only when the magic is `ustar\0` `00`); the PAX `size` overrides
 * the header size; mode, uid, gid, mtime and device numbers come from the raw header (not PAX); numeric
 * fields are octal (up to the first NUL, spaces trimmed) or GNU base-256 (high bit set, low 8 bytes).
 * The archive ends at the first all-zero header or at end of input on a header boundary.
 *
 * Unlike the crate (which seeks past truncated data), a stream ending inside a header or inside entry
 * data is an error: a partial layer must never be pinned.
 */
import { TarError } from './errors.js';

const BLOCK = 512;
/** Upper bound on GNU long-name and PAX records we keep in memory. */
const MAX_META_SIZE = 1 << 20;

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo' | 'other';

export interface TarEntry {
  type: TarEntryType;
  /** The raw type flag byte as a character ('0', '5', 'S', ...). */
  typeFlag: string;
  /** Byte offset of the member's own header (after any `L`, `K`, `x` records). */
  headerOffset: number;
  /** Byte offset of the member's data (`headerOffset + 512`). */
  dataOffset: number;
  /** Size of the data in the archive (PAX `size` if present, else the header). */
  size: number;
  /** Member name as raw bytes (long name, PAX path or header name). */
  path: Buffer;
  /** Link target from long link, PAX linkpath or header; undefined when there is none. */
  linkName: Buffer | undefined;
  /** The 100-byte header link field up to its first NUL; undefined when it is empty. */
  headerLinkName: Buffer | undefined;
  /** The header mode field (low 32 bits); undefined when the field is not a number. */
  mode: number | undefined;
  uid: number;
  gid: number;
  /** Header mtime (seconds); 0 when the field is not a number. */
  mtime: bigint;
  /** Device numbers; undefined when absent (not ustar/GNU) or not numbers. */
  devMajor: number | undefined;
  devMinor: number | undefined;
}

export interface TarScannerEvents {
  /** Called for every member. Return true to receive its data through `onData`. */
  onEntry(entry: TarEntry): boolean;
  onData?(entry: TarEntry, data: Buffer): void;
}

const TYPES: Record<string, TarEntryType> = {
  '\0': 'file',
  '0': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

function untilNul(bytes: Buffer): Buffer {
  const nul = bytes.indexOf(0);
  return nul === -1 ? bytes : bytes.subarray(0, nul);
}

/** A numeric header field as the tar crate reads it; undefined when it is not a number. */
export function parseNumeric(field: Buffer): bigint | undefined {
  if (field[0] & 0x80) {
    let value = 0n;
    for (const byte of field.subarray(Math.max(0, field.length - 8))) value = (value << 8n) | BigInt(byte);
    return value;
  }
  const text = untilNul(field).toString('latin1').trim();
  if (!/^[0-7]+$/.test(text) || text.length > 22) return undefined;
  const value = BigInt('0o' + text);
  return value < 1n << 64n ? value : undefined;
}

function smallNumber(value: bigint | undefined): number | undefined {
  return value === undefined || value > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(value);
}

/** The low 32 bits, as upstream's `as u32` casts do. */
function u32(value: bigint | undefined): number | undefined {
  return value === undefined ? undefined : Number(BigInt.asUintN(32, value));
}

function checksumOk(header: Buffer): boolean {
  const stored = parseNumeric(header.subarray(148, 156));
  if (stored === undefined) return false;
  let sum = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += header[i];
  return BigInt(sum) === stored;
}

/** PAX extended header records (`<len> <key>=<value>\n`) as key to raw value bytes. */
export function parsePaxRecords(data: Buffer, offset: number): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let at = 0;
  while (at < data.length) {
    if (data[at] === 0) break; // some writers pad the record block with NULs
    const space = data.indexOf(0x20, at);
    const length = space === -1 ? NaN : Number(data.toString('latin1', at, space));
    if (!Number.isSafeInteger(length) || length <= space - at + 1 || at + length > data.length || data[at + length - 1] !== 0x0a) {
      throw new TarError('tar_invalid', 'malformed PAX extended header record', { offset });
    }
    const record = data.subarray(space + 1, at + length - 1);
    const equals = record.indexOf(0x3d);
    if (equals === -1) throw new TarError('tar_invalid', 'PAX record without "="', { offset });
    records.set(record.toString('utf8', 0, equals), record.subarray(equals + 1));
    at += length;
  }
  return records;
}

function stripOneNul(bytes: Buffer): Buffer {
  return bytes.length > 0 && bytes[bytes.length - 1] === 0 ? bytes.subarray(0, bytes.length - 1) : bytes;
}

type Meta = 'L' | 'K' | 'x';

export class TarScanner {
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Absolute offset of the next byte pushed. */
  private position = 0;
  /** Bytes of the current member's data still to come, then its padding. */
  private dataLeft = 0;
  private padLeft = 0;
  private capture: { entry: TarEntry | Meta; parts: Buffer[]; offset: number } | undefined;
  private longName: Buffer | undefined;
  private longLink: Buffer | undefined;
  private pax: Map<string, Buffer> | undefined;
  private ended = false;

  constructor(private readonly events: TarScannerEvents) {}

  /** Total bytes pushed so far. */
  get length(): number {
    return this.position;
  }

  push(chunk: Uint8Array): void {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let at = 0;
    while (at < bytes.length && !this.ended) {
      if (this.dataLeft > 0) {
        const n = Math.min(this.dataLeft, bytes.length - at);
        // Copy: the caller may reuse its chunk buffers.
        if (this.capture) this.capture.parts.push(Buffer.from(bytes.subarray(at, at + n)));
        this.dataLeft -= n;
        at += n;
        this.position += n;
        if (this.dataLeft === 0) this.finishData();
      } else if (this.padLeft > 0) {
        const n = Math.min(this.padLeft, bytes.length - at);
        this.padLeft -= n;
        at += n;
        this.position += n;
      } else {
        const n = Math.min(BLOCK - this.headerFill, bytes.length - at);
        bytes.copy(this.header, this.headerFill, at, at + n);
        this.headerFill += n;
        at += n;
        this.position += n;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.readHeader(this.position - BLOCK);
        }
      }
    }
    // Bytes after the end-of-archive block are still part of the layer (they are hashed by the caller).
    this.position += bytes.length - at;
  }

  /** Checks that the stream did not stop inside a header or a member's data. */
  finish(): void {
    if (this.ended) return;
    if (this.headerFill > 0 || this.dataLeft > 0 || this.padLeft > 0) {
      throw new TarError('tar_truncated', 'the tar stream ends inside a member', { offset: this.position });
    }
    if (this.longName || this.longLink || this.pax) {
      throw new TarError('tar_truncated', 'the tar stream ends after an extended header without its member', { offset: this.position });
    }
  }

  private readHeader(offset: number): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      this.ended = true;
      return;
    }
    if (!checksumOk(h)) throw new TarError('tar_invalid', 'tar header checksum mismatch', { offset });
    const typeFlag = String.fromCharCode(h[156]);
    let size = smallNumber(parseNumeric(h.subarray(124, 136)));
    if (size === undefined) throw new TarError('tar_invalid', 'tar header size is not a number', { offset });
    if (typeFlag === 'L' || typeFlag === 'K' || typeFlag === 'x') {
      const already = typeFlag === 'L' ? this.longName : typeFlag === 'K' ? this.longLink : this.pax;
      if (already) throw new TarError('tar_invalid', `two '${typeFlag}' extended headers for the same member`, { offset });
      if (size > MAX_META_SIZE) throw new TarError('tar_invalid', `'${typeFlag}' extended header of ${size} bytes is too large`, { offset });
      this.startData(size, { entry: typeFlag, parts: [], offset });
      return;
    }
    const paxSize = this.pax?.get('size');
    if (paxSize !== undefined) {
      size = smallNumber(/^[0-9]+$/.test(paxSize.toString('latin1')) ? BigInt(paxSize.toString('latin1')) : undefined);
      if (size === undefined) throw new TarError('tar_invalid', 'PAX size is not a number', { offset });
    }
    const ustar = h.toString('latin1', 257, 265) === 'ustar\u000000';
    const gnu = h.toString('latin1', 257, 265) === 'ustar  \u0000';
    const name = untilNul(h.subarray(0, 100));
    const prefix = ustar ? untilNul(h.subarray(345, 500)) : Buffer.alloc(0);
    const headerPath = prefix.length > 0 ? Buffer.concat([prefix, Buffer.from('/'), name]) : name;
    const headerLinkName = h[157] === 0 ? undefined : untilNul(h.subarray(157, 257));
    const entry: TarEntry = {
      type: TYPES[typeFlag] ?? 'other',
      typeFlag,
      headerOffset: offset,
      dataOffset: offset + BLOCK,
      size,
      path: this.longName ? stripOneNul(this.longName) : (this.pax?.get('path') ?? headerPath),
      linkName: this.longLink ? stripOneNul(this.longLink) : (this.pax?.get('linkpath') ?? headerLinkName),
      headerLinkName,
      mode: u32(parseNumeric(h.subarray(100, 108))),
      uid: u32(parseNumeric(h.subarray(108, 116))) ?? 0,
      gid: u32(parseNumeric(h.subarray(116, 124))) ?? 0,
      mtime: parseNumeric(h.subarray(136, 148)) ?? 0n,
      devMajor: ustar || gnu ? smallNumber(parseNumeric(h.subarray(329, 337))) : undefined,
      devMinor: ustar || gnu ? smallNumber(parseNumeric(h.subarray(337, 345))) : undefined,
    };
    this.longName = this.longLink = this.pax = undefined;
    const wantData = this.events.onEntry(entry);
    this.startData(size, wantData ? { entry, parts: [], offset } : undefined);
  }

  private startData(size: number, capture: TarScanner['capture']): void {
    this.dataLeft = size;
    this.padLeft = (BLOCK - (size % BLOCK)) % BLOCK;
    this.capture = capture;
    if (size === 0) this.finishData();
  }

  private finishData(): void {
    const capture = this.capture;
    if (!capture) return;
    this.capture = undefined;
    const data = Buffer.concat(capture.parts);
    if (capture.entry === 'L') this.longName = data;
    else if (capture.entry === 'K') this.longLink = data;
    else if (capture.entry === 'x') this.pax = parsePaxRecords(data, capture.offset);
    else this.events.onData?.(capture.entry, data);
  }
}
