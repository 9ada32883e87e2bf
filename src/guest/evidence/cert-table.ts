/**
 * The SEV-SNP certificate table (GHCB spec, "extended guest request"), which configfs-tsm returns as
 * `auxblob`: entries of {GUID (16 bytes), offset (u32 LE), length (u32 LE)} ended by an all-zero entry,
 * offsets counted from the start of the table. GUIDs use the mixed-endian byte order of the kernel's
 * guid_t (first three fields little-endian).
 */

export const SNP_CERT_GUIDS = {
  vcek: '63da758d-e664-4564-adc5-f4b93be8accd',
  vlek: 'a8074bc2-a25a-483e-aae6-39c045a0b8a1',
  ask: '4ab7b379-bbac-4fe4-a02f-05aef327c782',
  ark: 'c0b406a4-a803-4952-9743-3fb6014cd0ae',
} as const;
export type SnpCertKind = keyof typeof SNP_CERT_GUIDS;

const ENTRY = 24;

export function guidBytes(guid: string): Buffer {
  const hex = Buffer.from(guid.replace(/-/g, ''), 'hex');
  const out = Buffer.from(hex);
  out.writeUInt32LE(hex.readUInt32BE(0), 0);
  out.writeUInt16LE(hex.readUInt16BE(4), 4);
  out.writeUInt16LE(hex.readUInt16BE(6), 6);
  return out;
}

export function guidText(bytes: Buffer): string {
  const b = Buffer.from(bytes);
  b.writeUInt32BE(bytes.readUInt32LE(0), 0);
  b.writeUInt16BE(bytes.readUInt16LE(4), 4);
  b.writeUInt16BE(bytes.readUInt16LE(6), 6);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export interface CertEntry {
  kind: SnpCertKind | 'unknown';
  guid: string;
  der: Buffer;
}

/** Reads the table; throws RangeError on entries pointing outside it. */
export function parseCertTable(table: Buffer): CertEntry[] {
  const out: CertEntry[] = [];
  const kinds = new Map(Object.entries(SNP_CERT_GUIDS).map(([k, g]) => [g, k as SnpCertKind]));
  for (let at = 0; at + ENTRY <= table.length; at += ENTRY) {
    const guid = table.subarray(at, at + 16);
    const offset = table.readUInt32LE(at + 16);
    const length = table.readUInt32LE(at + 20);
    if (guid.every((b) => b === 0) && offset === 0 && length === 0) return out;
    if (offset + length > table.length) throw new RangeError(`certificate table entry ${at / ENTRY} points outside the table`);
    const text = guidText(guid);
    out.push({ kind: kinds.get(text as never) ?? 'unknown', guid: text, der: table.subarray(offset, offset + length) });
  }
  throw new RangeError('certificate table has no terminating entry');
}

/** Builds a table (for emulating the kernel in tests and for tooling). */
export function buildCertTable(entries: readonly { kind: SnpCertKind; der: Buffer }[]): Buffer {
  const header = Buffer.alloc((entries.length + 1) * ENTRY);
  let offset = header.length;
  entries.forEach((e, i) => {
    guidBytes(SNP_CERT_GUIDS[e.kind]).copy(header, i * ENTRY);
    header.writeUInt32LE(offset, i * ENTRY + 16);
    header.writeUInt32LE(e.der.length, i * ENTRY + 20);
    offset += e.der.length;
  });
  return Buffer.concat([header, ...entries.map((e) => e.der)]);
}

/** The chain in the order the verifier wants: VCEK (or VLEK), ASK, ARK; unknown entries dropped. */
export function orderedChain(entries: readonly CertEntry[]): Buffer[] {
  const order: SnpCertKind[] = ['vcek', 'vlek', 'ask', 'ark'];
  return order.flatMap((k) => entries.filter((e) => e.kind === k).map((e) => e.der));
}
