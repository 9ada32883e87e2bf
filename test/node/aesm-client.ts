/**
 * An AESM client written for the tests from Intel's message layout (messages.proto field numbers, the
 * 4-byte little-endian length framing), with its own minimal protobuf wire coder: it shares no code with
 * the server it tests.
 */
import { connect } from 'node:net';

type Field = [number, number | bigint | boolean | Buffer];

function varint(value: bigint): Buffer {
  const out: number[] = [];
  let v = value;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}

/** Encodes fields in order: numbers and booleans as varints (wire type 0), buffers length-delimited (2). */
export function encode(fields: Field[]): Buffer {
  return Buffer.concat(fields.map(([n, v]) => {
    if (Buffer.isBuffer(v)) return Buffer.concat([varint(BigInt((n << 3) | 2)), varint(BigInt(v.length)), v]);
    const num = typeof v === 'boolean' ? (v ? 1n : 0n) : BigInt(v);
    return Buffer.concat([varint(BigInt(n << 3)), varint(num)]);
  }));
}

/** Decodes one level: field number to its last value (varints as bigint, length-delimited as Buffer). */
export function decode(buf: Buffer): Map<number, bigint | Buffer> {
  const out = new Map<number, bigint | Buffer>();
  let i = 0;
  const readVarint = (): bigint => {
    let shift = 0n;
    let result = 0n;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated varint');
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(readVarint());
    const [n, wire] = [key >> 3, key & 7];
    if (wire === 0) out.set(n, readVarint());
    else if (wire === 2) {
      const len = Number(readVarint());
      out.set(n, buf.subarray(i, i + len));
      i += len;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

/** Request field numbers (aesm.message.Request) and the Response field that answers each. */
export const REQ = { initQuoteEx: 15, getQuoteSizeEx: 16, getQuoteEx: 17, selectAttKeyID: 19, getSupportedAttKeyIDNum: 21, getSupportedAttKeyIDs: 22 } as const;

export function sendRaw(socketPath: string, bytes: Buffer, options: { end?: boolean } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(chunks)));
    s.on('connect', () => (options.end === false ? s.write(bytes) : s.end(bytes)));
  });
}

/** One transaction: the Request carrying `kind` with `fields`; resolves with the fields of the matching Response. */
export async function transact(socketPath: string, kind: number, fields: Field[]): Promise<Map<number, bigint | Buffer>> {
  const body = encode([[kind, encode(fields)]]);
  const header = Buffer.alloc(4);
  header.writeUInt32LE(body.length);
  const answer = await sendRaw(socketPath, Buffer.concat([header, body]));
  if (answer.length < 4) throw new Error('no answer');
  const len = answer.readUInt32LE(0);
  const response = decode(answer.subarray(4, 4 + len));
  const inner = response.get(kind);
  if (!Buffer.isBuffer(inner)) throw new Error(`response lacks field ${kind}`);
  return decode(inner);
}

/** An sgx_report_t: body (384 bytes: MRENCLAVE at 64, MRSIGNER at 128, REPORT_DATA at 320), key ID, MAC. */
export function report(fields: { mrenclave: Buffer; mrsigner: Buffer; reportData: Buffer }): Buffer {
  const r = Buffer.alloc(432);
  r[48] = 0x05; // ATTRIBUTES: INIT | MODE64BIT, not DEBUG
  fields.mrenclave.copy(r, 64);
  fields.mrsigner.copy(r, 128);
  fields.reportData.copy(r, 320);
  return r;
}
