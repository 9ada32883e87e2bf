/**
 * Intel's SGX extension on PCK certificates (OID 1.2.840.113741.1.13.1, "SGX PCK Certificate and CRL
 * Profile"): the platform's TCB component SVNs, PCESVN, PCE-ID and FMSPC.
 */
import type { X509Certificate } from 'node:crypto';
import { EvidenceFormatError } from '../claims.js';
import { Tag, children, decodeOid, decodeSmallUint, expectTag, oid as encodeOid, integer, octets, seq, readOne, tlv } from '../certs/der.js';
import { extensions } from '../certs/x509.js';

export const SGX_EXTENSIONS_OID = '1.2.840.113741.1.13.1';

export interface PckExtensions {
  /** The 16 CPUSVN component SVNs the PCK was issued for. */
  tcbComponents: number[];
  pceSvn: number;
  cpuSvn: Buffer;
  pceId: string;
  fmspc: string;
}

export function readPckExtensions(cert: X509Certificate): PckExtensions {
  const value = extensions(cert).get(SGX_EXTENSIONS_OID);
  if (!value) throw new EvidenceFormatError('sgx_pck_malformed', 'the PCK certificate has no SGX extension (1.2.840.113741.1.13.1)');
  try {
    const items = new Map<string, ReturnType<typeof readOne>>();
    for (const entry of children(readOne(value))) {
      const [id, v] = children(entry);
      items.set(decodeOid(expectTag(id, Tag.Oid, 'sgx extension id').value), v);
    }
    const tcb = items.get(`${SGX_EXTENSIONS_OID}.2`);
    const fmspc = items.get(`${SGX_EXTENSIONS_OID}.4`);
    const pceId = items.get(`${SGX_EXTENSIONS_OID}.3`);
    if (!tcb || !fmspc || !pceId) throw new Error('TCB, FMSPC or PCE-ID missing');
    const comps = new Map<string, ReturnType<typeof readOne>>();
    for (const entry of children(tcb)) {
      const [id, v] = children(entry);
      comps.set(decodeOid(id.value), v);
    }
    const comp = (n: number): number => {
      const node = comps.get(`${SGX_EXTENSIONS_OID}.2.${n}`);
      if (!node) throw new Error(`TCB component ${n} missing`);
      return decodeSmallUint(node);
    };
    return {
      tcbComponents: Array.from({ length: 16 }, (_, i) => comp(i + 1)),
      pceSvn: comp(17),
      cpuSvn: expectTag(comps.get(`${SGX_EXTENSIONS_OID}.2.18`) ?? fmspc, Tag.OctetString, 'cpusvn').value,
      pceId: expectTag(pceId, Tag.OctetString, 'PCE-ID').value.toString('hex'),
      fmspc: expectTag(fmspc, Tag.OctetString, 'FMSPC').value.toString('hex'),
    };
  } catch (error) {
    throw new EvidenceFormatError('sgx_pck_malformed', `the PCK certificate's SGX extension is malformed: ${(error as Error).message}`, { cause: error });
  }
}

/** Encodes the SGX extension value (the simulator's PCK certificates). */
export function encodePckExtensions(p: Omit<PckExtensions, 'cpuSvn'> & { cpuSvn?: Buffer; ppid?: Buffer }): Buffer {
  const entry = (suffix: string, value: Buffer): Buffer => seq(encodeOid(`${SGX_EXTENSIONS_OID}.${suffix}`), value);
  const tcb = seq(
    ...p.tcbComponents.map((svn, i) => entry(`2.${i + 1}`, integer(svn))),
    entry('2.17', integer(p.pceSvn)),
    entry('2.18', octets(p.cpuSvn ?? Buffer.from(p.tcbComponents))),
  );
  return seq(
    entry('1', octets(p.ppid ?? Buffer.alloc(16))),
    entry('2', tcb),
    entry('3', octets(Buffer.from(p.pceId, 'hex'))),
    entry('4', octets(Buffer.from(p.fmspc, 'hex'))),
    entry('5', tlv(0x0a, Buffer.from([0]))),
  );
}
