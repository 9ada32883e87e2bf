/**
 * AMD's X.509 extensions on VCEK/VLEK certificates (AMD "Versioned Chip Endorsement Key" spec, table
 * "VCEK Certificate Extensions"): the TCB the key was derived for, the chip it belongs to, the product.
 */
import type { X509Certificate } from 'node:crypto';
import { EvidenceFormatError } from '../claims.js';
import { DerError, Tag, decodeSmallUint, readOne } from '../certs/der.js';
import { extensions } from '../certs/x509.js';

export const AMD_OID = {
  structVersion: '1.3.6.1.4.1.3704.1.1',
  productName: '1.3.6.1.4.1.3704.1.2',
  blSpl: '1.3.6.1.4.1.3704.1.3.1',
  teeSpl: '1.3.6.1.4.1.3704.1.3.2',
  snpSpl: '1.3.6.1.4.1.3704.1.3.3',
  ucodeSpl: '1.3.6.1.4.1.3704.1.3.8',
  fmcSpl: '1.3.6.1.4.1.3704.1.3.9',
  hwId: '1.3.6.1.4.1.3704.1.4',
  cspId: '1.3.6.1.4.1.3704.1.5',
} as const;

export interface VcekExtensions {
  productName?: string;
  tcb: { bootloader?: number; tee?: number; snp?: number; microcode?: number; fmc?: number };
  hwId?: Buffer;
  cspId?: string;
}

export function readVcekExtensions(cert: X509Certificate): VcekExtensions {
  const ext = extensions(cert);
  try {
    const int = (oid: string): number | undefined => {
      const v = ext.get(oid);
      return v === undefined ? undefined : decodeSmallUint(readOne(v));
    };
    const str = (oid: string): string | undefined => {
      const v = ext.get(oid);
      if (v === undefined) return undefined;
      const node = readOne(v);
      if (node.tag !== Tag.Ia5String && node.tag !== Tag.Utf8String && node.tag !== Tag.PrintableString) throw new DerError(`${oid}: expected a string`);
      return node.value.toString('utf8');
    };
    return {
      productName: str(AMD_OID.productName),
      tcb: { bootloader: int(AMD_OID.blSpl), tee: int(AMD_OID.teeSpl), snp: int(AMD_OID.snpSpl), microcode: int(AMD_OID.ucodeSpl), fmc: int(AMD_OID.fmcSpl) },
      hwId: ext.get(AMD_OID.hwId),
      cspId: str(AMD_OID.cspId),
    };
  } catch (error) {
    throw new EvidenceFormatError('cert_malformed', `the VCEK/VLEK has a malformed AMD extension: ${(error as Error).message}`, { cause: error });
  }
}
