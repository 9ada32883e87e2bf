/**
 * The Azure vTPM path against a fake TPM device at the file-handle level: the exact command bytes the
 * agent writes (NV_ReadPublic, NV_DefineSpace, NV_Write of REPORT_DATA to 0x01400002, NV_ReadPublic
 * and chunked NV_Read of 0x01400001, Quote with REPORT_DATA as qualifyingData) and the answers parsed.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AzureVtpmProvider, HCL_REPORT_INDEX, HCL_USER_DATA_INDEX, snpReportOfHcl } from '../../src/guest/evidence/vtpm.js';
import { DeviceTransport, TPM_CC, type TpmDeviceHandle } from '../../src/guest/evidence/tpm2.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
const reply = (rc: number, body: Buffer, sessions: boolean) => {
  const params = sessions ? Buffer.concat([u32(body.length), body, hex('0000 00 0000')]) : body; // + empty auth response
  return Buffer.concat([u16(sessions ? 0x8002 : 0x8001), u32(10 + (rc === 0 ? params.length : 0)), u32(rc), rc === 0 ? params : Buffer.alloc(0)]);
};

/** A TPM holding an HCL report; records every command written. */
function fakeTpm(hcl: Buffer) {
  const commands: Buffer[] = [];
  const nv = new Map<number, Buffer>([[HCL_REPORT_INDEX, hcl]]);
  let pending: Buffer | undefined;
  const answer = (cmd: Buffer): Buffer => {
    const code = cmd.readUInt32BE(6);
    const h1 = cmd.readUInt32BE(10);
    if (code === TPM_CC.NV_ReadPublic) {
      const data = nv.get(h1);
      if (!data) return reply(0x18b, Buffer.alloc(0), false);
      const pub = Buffer.concat([u32(h1), u16(0x000b), u32(0x00060006), u16(0), u16(data.length)]);
      return reply(0, Buffer.concat([u16(pub.length), pub, u16(0)]), false);
    }
    if (code === TPM_CC.NV_DefineSpace) {
      const pubAt = 14 + 4 + 9 + 2; // handle, authSize, auth, empty TPM2B_AUTH
      const index = cmd.readUInt32BE(pubAt + 2);
      nv.set(index, Buffer.alloc(cmd.readUInt16BE(pubAt + 2 + 10 + 2)));
      return reply(0, Buffer.alloc(0), true);
    }
    if (code === TPM_CC.NV_Write) {
      const at = 18 + 4 + 9;
      nv.set(h1, Buffer.from(cmd.subarray(at + 2, at + 2 + cmd.readUInt16BE(at))));
      return reply(0, Buffer.alloc(0), true);
    }
    if (code === TPM_CC.NV_Read) {
      const at = 18 + 4 + 9;
      const size = cmd.readUInt16BE(at);
      const offset = cmd.readUInt16BE(at + 2);
      const data = (nv.get(h1) as Buffer).subarray(offset, offset + size);
      return reply(0, Buffer.concat([u16(data.length), data]), true);
    }
    if (code === TPM_CC.Quote) {
      const at = 14 + 4 + 9;
      const qualifying = cmd.subarray(at + 2, at + 2 + cmd.readUInt16BE(at));
      const attest = Buffer.concat([hex('ff544347 8018'), u16(0), u16(qualifying.length), qualifying]);
      return reply(0, Buffer.concat([u16(attest.length), attest, hex('0014 000b'), u16(4), hex('51515151')]), true);
    }
    return reply(0x143, Buffer.alloc(0), false);
  };
  const handle: TpmDeviceHandle = {
    write: async (b) => { commands.push(Buffer.from(b)); pending = answer(b); return { bytesWritten: b.length }; },
    read: async (buf) => { const r = pending as Buffer; pending = undefined; r.copy(buf); return { bytesRead: r.length }; },
    close: async () => undefined,
  };
  return { commands, nv, handle };
}

describe('Azure vTPM evidence', () => {
  it('writes REPORT_DATA to the HCL user-data index, reads the report in chunks and quotes with it', async () => {
    const hcl = Buffer.concat([Buffer.alloc(32, 0x48), randomBytes(1184), Buffer.from('{"keys":[]}')]);
    const tpm = fakeTpm(hcl);
    const reportData = Buffer.alloc(64);
    randomBytes(48).copy(reportData);
    const provider = new AzureVtpmProvider({ transport: () => DeviceTransport.open('/dev/fake', async () => tpm.handle) });
    const evidence = await provider.evidence(reportData);

    const [readPub, define, write, readPub2, ...rest] = tpm.commands;
    expect(readPub.equals(hex('8001 0000000e 00000169 01400002'))).toBe(true);
    expect(define.subarray(0, 10).equals(hex('8002 0000002d 0000012a'))).toBe(true);
    expect(define.subarray(10).equals(hex('40000001 00000009 40000009 0000 00 0000  0000  000e 01400002 000b 02060006 0000 0040'))).toBe(true);
    expect(write.equals(Buffer.concat([hex('8002 00000063 00000137 01400002 01400002 00000009 40000009 0000 00 0000 0040'), reportData, hex('0000')]))).toBe(true);
    expect(tpm.nv.get(HCL_USER_DATA_INDEX)?.equals(reportData)).toBe(true);
    expect(readPub2.equals(hex('8001 0000000e 00000169 01400001'))).toBe(true);
    const reads = rest.filter((c) => c.readUInt32BE(6) === TPM_CC.NV_Read);
    expect(reads.map((c) => [c.readUInt16BE(31), c.readUInt16BE(33)])).toEqual([[1024, 0], [hcl.length - 1024, 1024]]);
    const quote = rest.find((c) => c.readUInt32BE(6) === TPM_CC.Quote) as Buffer;
    expect(quote.equals(Buffer.concat([hex('8002 00000069 00000158 81000003 00000009 40000009 0000 00 0000 0040'), reportData, hex('0010 00000001 000b 03 ffffff')]))).toBe(true);

    expect(evidence.tee).toBe('az-snp-vtpm');
    expect(evidence.report.equals(hcl)).toBe(true);
    expect(snpReportOfHcl(evidence.report).equals(hcl.subarray(32, 32 + 1184))).toBe(true);
    const wire = evidence.wire as { quote: { message: string; signature: string } };
    expect(Buffer.from(wire.quote.message, 'base64').subarray(-64).equals(reportData)).toBe(true);
    expect(Buffer.from(wire.quote.signature, 'base64').equals(hex('0014 000b 0004 51515151'))).toBe(true);
  });

  it('does not define the user-data index when it exists, and names TPM failures', async () => {
    const tpm = fakeTpm(Buffer.alloc(2000));
    tpm.nv.set(HCL_USER_DATA_INDEX, Buffer.alloc(64));
    await new AzureVtpmProvider({ transport: () => DeviceTransport.open('/dev/fake', async () => tpm.handle) }).evidence(Buffer.alloc(64, 2));
    expect(tpm.commands.some((c) => c.readUInt32BE(6) === TPM_CC.NV_DefineSpace)).toBe(false);

    const noHcl = fakeTpm(Buffer.alloc(0));
    noHcl.nv.delete(HCL_REPORT_INDEX);
    await expect(new AzureVtpmProvider({ transport: () => DeviceTransport.open('/dev/fake', async () => noHcl.handle) }).evidence(Buffer.alloc(64))).rejects.toMatchObject({ code: 'vtpm_no_hcl_report', step: 'evidence' });
    await expect(DeviceTransport.open('/nonexistent/tpmrm0')).rejects.toMatchObject({ code: 'tpm_unavailable' });
  });
});
