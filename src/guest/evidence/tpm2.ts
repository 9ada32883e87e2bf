/**
 * Raw TPM 2.0 commands over a resource-manager device (`/dev/tpmrm0`), just the few the Azure vTPM path
 * needs (TPM 2.0 Library, Part 3): NV_ReadPublic, NV_Read, NV_Write, NV_DefineSpace, Quote. A command
 * is a 10-byte header (tag u16, size u32, code u32), handles, an authorization area when tagged
 * TPM_ST_SESSIONS (here always one empty password session, TPM_RS_PW), then parameters; big-endian.
 * A response with sessions carries a u32 parameterSize after the header.
 */
import { promises as fsp } from 'node:fs';
import { EvidenceError } from '../errors.js';

export const TPM_ST_NO_SESSIONS = 0x8001;
export const TPM_ST_SESSIONS = 0x8002;
export const TPM_RS_PW = 0x40000009;
export const TPM_RH_OWNER = 0x40000001;
export const TPM_ALG_SHA256 = 0x000b;
export const TPM_ALG_NULL = 0x0010;
export const TPM_CC = {
  NV_DefineSpace: 0x0000012a,
  NV_Write: 0x00000137,
  NV_Read: 0x0000014e,
  Quote: 0x00000158,
  NV_ReadPublic: 0x00000169,
} as const;
/** TPM_RC_HANDLE with the handle-number bits: how an undefined NV index answers NV_ReadPublic. */
export const TPM_RC_HANDLE = 0x08b;

/** Moves command bytes to the TPM and back; one call, one command. */
export interface TpmTransport {
  transmit(command: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

/** The part of a FileHandle a TPM device needs (so tests can stand in a fake device). */
export interface TpmDeviceHandle {
  write(buffer: Buffer): Promise<{ bytesWritten: number }>;
  read(buffer: Buffer, offset: number, length: number, position: null): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

const MAX_RESPONSE = 4096;

/** A TPM character device: write the whole command, read the whole response. */
export class DeviceTransport implements TpmTransport {
  private constructor(private readonly handle: TpmDeviceHandle) {}

  static async open(path = '/dev/tpmrm0', open: (p: string) => Promise<TpmDeviceHandle> = (p) => fsp.open(p, 'r+')): Promise<DeviceTransport> {
    try {
      return new DeviceTransport(await open(path));
    } catch (error) {
      throw new EvidenceError('tpm_unavailable', `cannot open the TPM device ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
        location: { file: path },
        hint: 'the vTPM path needs /dev/tpmrm0 in the container (a device mount) and read/write access to it',
      });
    }
  }

  async transmit(command: Buffer): Promise<Buffer> {
    const { bytesWritten } = await this.handle.write(command);
    if (bytesWritten !== command.length) throw new EvidenceError('tpm_io', `TPM write was short (${bytesWritten} of ${command.length} bytes)`);
    const buffer = Buffer.alloc(MAX_RESPONSE);
    const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, null);
    return buffer.subarray(0, bytesRead);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
const tpm2b = (data: Buffer) => Buffer.concat([u16(data.length), data]);

/** One empty password session: sessionHandle, nonce (empty), attributes 0, hmac (empty). */
const PASSWORD_AUTH = Buffer.concat([u32(TPM_RS_PW), u16(0), Buffer.from([0]), u16(0)]);

export function command(code: number, handles: readonly number[], params: Buffer, sessions: boolean): Buffer {
  const body = Buffer.concat([
    ...handles.map(u32),
    ...(sessions ? [u32(PASSWORD_AUTH.length), PASSWORD_AUTH] : []),
    params,
  ]);
  return Buffer.concat([u16(sessions ? TPM_ST_SESSIONS : TPM_ST_NO_SESSIONS), u32(10 + body.length), u32(code), body]);
}

export class TpmResponseError extends EvidenceError {
  constructor(readonly commandName: string, readonly rc: number) {
    super('tpm_command_failed', `TPM2_${commandName} failed with response code 0x${rc.toString(16).padStart(8, '0')}`);
  }
}

/** Checks the header and returns the parameter area. */
export function responseParams(name: string, response: Buffer, sessions: boolean): Buffer {
  if (response.length < 10) throw new EvidenceError('tpm_io', `TPM2_${name}: response of ${response.length} bytes is too short`);
  const size = response.readUInt32BE(2);
  const rc = response.readUInt32BE(6);
  if (rc !== 0) throw new TpmResponseError(name, rc);
  if (size !== response.length) throw new EvidenceError('tpm_io', `TPM2_${name}: response says ${size} bytes, got ${response.length}`);
  if (!sessions) return response.subarray(10);
  const paramSize = response.readUInt32BE(10);
  return response.subarray(14, 14 + paramSize);
}

/** A reader over TPM structures, failing on truncation. */
class Reader {
  at = 0;
  constructor(private readonly b: Buffer, private readonly what: string) {}
  private need(n: number): void {
    if (this.at + n > this.b.length) throw new EvidenceError('tpm_io', `${this.what}: truncated`);
  }
  u16(): number { this.need(2); const v = this.b.readUInt16BE(this.at); this.at += 2; return v; }
  u32(): number { this.need(4); const v = this.b.readUInt32BE(this.at); this.at += 4; return v; }
  bytes(n: number): Buffer { this.need(n); const v = this.b.subarray(this.at, this.at + n); this.at += n; return v; }
  sized(): Buffer { return this.bytes(this.u16()); }
  rest(): Buffer { return this.b.subarray(this.at); }
}

export interface NvPublic {
  index: number;
  nameAlg: number;
  attributes: number;
  dataSize: number;
}

export class Tpm {
  constructor(private readonly transport: TpmTransport) {}

  private async run(name: keyof typeof TPM_CC, handles: number[], params: Buffer, sessions: boolean): Promise<Buffer> {
    return responseParams(name, await this.transport.transmit(command(TPM_CC[name], handles, params, sessions)), sessions);
  }

  /** TPM2_NV_ReadPublic; undefined when the index is not defined. */
  async nvReadPublic(index: number): Promise<NvPublic | undefined> {
    let params: Buffer;
    try {
      params = await this.run('NV_ReadPublic', [index], Buffer.alloc(0), false);
    } catch (error) {
      if (error instanceof TpmResponseError && (error.rc & 0xbf) === TPM_RC_HANDLE) return undefined;
      throw error;
    }
    const pub = new Reader(new Reader(params, 'TPM2_NV_ReadPublic').sized(), 'TPMS_NV_PUBLIC');
    const out = { index: pub.u32(), nameAlg: pub.u16(), attributes: pub.u32(), dataSize: 0 };
    pub.sized(); // authPolicy
    out.dataSize = pub.u16();
    return out;
  }

  /** TPM2_NV_Read of a whole index, in chunks the TPM accepts (authorized by the index itself). */
  async nvRead(index: number, size: number, chunk = 1024): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let offset = 0; offset < size; offset += chunk) {
      const n = Math.min(chunk, size - offset);
      const params = await this.run('NV_Read', [index, index], Buffer.concat([u16(n), u16(offset)]), true);
      parts.push(Buffer.from(new Reader(params, 'TPM2_NV_Read').sized()));
    }
    return Buffer.concat(parts);
  }

  /** TPM2_NV_Write at offset 0 (authorized by the index itself). */
  async nvWrite(index: number, data: Buffer): Promise<void> {
    await this.run('NV_Write', [index, index], Buffer.concat([tpm2b(data), u16(0)]), true);
  }

  /** TPM2_NV_DefineSpace under the owner hierarchy (empty owner auth), readable and writable with an empty auth. */
  async nvDefineSpace(index: number, size: number): Promise<void> {
    // OWNERWRITE | AUTHWRITE | OWNERREAD | AUTHREAD | NO_DA
    const attributes = (1 << 1) | (1 << 2) | (1 << 17) | (1 << 18) | (1 << 25);
    const pub = Buffer.concat([u32(index), u16(TPM_ALG_SHA256), u32(attributes), u16(0), u16(size)]);
    await this.run('NV_DefineSpace', [TPM_RH_OWNER], Buffer.concat([u16(0), tpm2b(pub)]), true);
  }

  /** TPM2_Quote over SHA-256 PCRs 0-23 with `qualifyingData`, signed by the key at `akHandle` in its own scheme. */
  async quote(akHandle: number, qualifyingData: Buffer): Promise<{ message: Buffer; signature: Buffer }> {
    const selection = Buffer.concat([u32(1), u16(TPM_ALG_SHA256), Buffer.from([3, 0xff, 0xff, 0xff])]);
    const params = await this.run('Quote', [akHandle], Buffer.concat([tpm2b(qualifyingData), u16(TPM_ALG_NULL), selection]), true);
    const r = new Reader(params, 'TPM2_Quote');
    const message = Buffer.from(r.sized());
    return { message, signature: Buffer.from(r.rest()) };
  }
}
