/**
 * PKCS #10 certificate requests for crypto.x509.parse_certificate_request. node:crypto parses
 * certificates but not requests, so this reads the DER itself: just enough TLV walking for
 * CertificationRequestInfo (version, subject, public key info). Like Go's ParseCertificateRequest, the
 * signature is not checked here. Malformed input fails with Go's "asn1: structure error" text.
 */
import { BuiltinError } from '../errors.js';

interface Tlv {
  tag: number;
  /** The whole element (header + content). */
  raw: Buffer;
  content: Buffer;
}

const structureError = (what: string): never => {
  throw new BuiltinError(`asn1: structure error: ${what}`);
};

function readTlv(buf: Buffer, offset: number): Tlv {
  if (offset + 2 > buf.length) structureError('truncated tag or length');
  const tag = buf[offset];
  let length = buf[offset + 1];
  let header = 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4 || offset + 2 + n > buf.length) structureError('length too large');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[offset + 2 + i];
    header += n;
  }
  const end = offset + header + length;
  if (end > buf.length) structureError('data truncated');
  return { tag, raw: buf.subarray(offset, end), content: buf.subarray(offset + header, end) };
}

function children(t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let off = 0; off < t.content.length; ) {
    const c = readTlv(t.content, off);
    out.push(c);
    off += c.raw.length;
  }
  return out;
}

function oid(content: Buffer): string {
  const parts = [Math.floor(content[0] / 40), content[0] % 40];
  let v = 0;
  for (const b of content.subarray(1)) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** X.520 attribute types as Go's pkix.Name (and node's DN text) name them. */
const NAME_OIDS: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.7': 'L', '2.5.4.8': 'ST',
  '2.5.4.9': 'street', '2.5.4.17': 'postalCode', '2.5.4.5': 'serialNumber',
};

const KEY_ALGORITHMS: Record<string, number> = { '1.2.840.113549.1.1.1': 1, '1.2.840.10040.4.1': 2, '1.2.840.10045.2.1': 3, '1.3.101.112': 4 };

export interface CertificateRequestFields {
  /** The subject as "KEY=value" lines (the form node's X509Certificate.subject uses). */
  subjectText: string;
  version: number;
  /** Go's x509.PublicKeyAlgorithm number (1 RSA, 2 DSA, 3 ECDSA, 4 Ed25519; 0 unknown). */
  publicKeyAlgorithm: number;
  raw: Buffer;
  rawTbs: Buffer;
  rawSubject: Buffer;
  rawSubjectPublicKeyInfo: Buffer;
}

export function parseCertificateRequest(der: Buffer): CertificateRequestFields {
  const top = readTlv(der, 0);
  if (top.tag !== 0x30 || top.raw.length !== der.length) structureError('tags don\'t match (16 vs {class:0 tag:…}) or trailing data');
  const [info] = children(top);
  if (!info || info.tag !== 0x30) structureError('CertificationRequestInfo is not a SEQUENCE');
  const [version, subject, spki] = children(info);
  if (version?.tag !== 0x02 || subject?.tag !== 0x30 || spki?.tag !== 0x30) structureError('CertificationRequestInfo fields out of shape');
  const lines: string[] = [];
  for (const rdn of children(subject)) {
    for (const atv of children(rdn)) {
      const [type, value] = children(atv);
      if (type?.tag !== 0x06 || !value) structureError('bad AttributeTypeAndValue');
      const key = NAME_OIDS[oid(type.content)];
      if (key) lines.push(`${key}=${value.content.toString(value.tag === 0x1e ? 'utf16le' : 'utf8')}`);
    }
  }
  const algorithm = children(spki)[0];
  const algOid = algorithm ? children(algorithm)[0] : undefined;
  return {
    subjectText: lines.join('\n'),
    version: version.content.length === 1 ? version.content[0] : 0,
    publicKeyAlgorithm: algOid?.tag === 0x06 ? (KEY_ALGORITHMS[oid(algOid.content)] ?? 0) : 0,
    raw: top.raw,
    rawTbs: info.raw,
    rawSubject: subject.raw,
    rawSubjectPublicKeyInfo: spki.raw,
  };
}
