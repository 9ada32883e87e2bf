/** A tiny tar writer for tests: any type flag, device numbers, raw field overrides, base-256 numbers. */
export interface RawEntry {
  name: string;
  type?: string;
  data?: Buffer | string;
  mode?: number | string;
  uid?: number;
  gid?: number;
  mtime?: bigint;
  linkName?: string;
  major?: number;
  minor?: number;
}

function octal(value: number | bigint, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

export function tarHeader(entry: RawEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(entry.name, 0, 100, 'utf8');
  h.write(typeof entry.mode === 'string' ? entry.mode : octal(entry.mode ?? 0o644, 8), 100, 8, 'latin1');
  h.write(octal(entry.uid ?? 0, 8), 108, 'latin1');
  h.write(octal(entry.gid ?? 0, 8), 116, 'latin1');
  h.write(octal(size, 12), 124, 'latin1');
  const mtime = entry.mtime ?? 0n;
  if (mtime >= 8n ** 11n) {
    // GNU base-256: high bit set, big-endian value in the remaining bytes.
    h[136] = 0x80;
    h.writeBigUInt64BE(mtime, 140);
  } else h.write(octal(mtime, 12), 136, 'latin1');
  h.write(' '.repeat(8), 148, 'latin1');
  h.write(entry.type ?? '0', 156, 'latin1');
  if (entry.linkName) h.write(entry.linkName, 157, 100, 'utf8');
  h.write('ustar\u000000', 257, 'latin1');
  h.write(octal(entry.major ?? 0, 8), 329, 'latin1');
  h.write(octal(entry.minor ?? 0, 8), 337, 'latin1');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(octal(sum, 7) + ' ', 148, 'latin1');
  return h;
}

/** A tar of `entries`, ended by two zero blocks. */
export function buildTar(entries: readonly RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.data ?? '');
    parts.push(tarHeader(entry, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A PAX extended header record `<len> <key>=<value>\n`. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length++;
  return `${length}${body}`;
}
