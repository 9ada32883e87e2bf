/**
 * A small X.509 v3 certificate and CRL builder (node:crypto verifies certificates but cannot create
 * them). Used by the software TEE and by tests to forge chains; ECDSA signatures only.
 */
import { sign, type KeyObject } from 'node:crypto';
import { bitString, bool, explicit, integer, octets, oid, seq, set, time, utf8 } from './der.js';

export interface Name {
  CN: string;
  O?: string;
  OU?: string;
}

export interface ExtensionSpec {
  oid: string;
  critical?: boolean;
  /** The DER that goes inside extnValue's OCTET STRING. */
  value: Buffer;
}

export interface CertificateSpec {
  subject: Name;
  issuer: Name;
  serial: number | Buffer;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  /** The issuer's EC private key. */
  signingKey: KeyObject;
  hash: 'sha256' | 'sha384';
  ca?: boolean;
  extensions?: ExtensionSpec[];
}

const ECDSA_OID = { sha256: '1.2.840.10045.4.3.2', sha384: '1.2.840.10045.4.3.3' } as const;

export function encodeName(name: Name): Buffer {
  const rdn = (type: string, value: string): Buffer => set(seq(oid(type), utf8(value)));
  return seq(...[name.OU && rdn('2.5.4.11', name.OU), name.O && rdn('2.5.4.10', name.O), rdn('2.5.4.3', name.CN)].filter((b): b is Buffer => Boolean(b)));
}

function signed(tbs: Buffer, hash: 'sha256' | 'sha384', key: KeyObject): Buffer {
  const alg = seq(oid(ECDSA_OID[hash]));
  return seq(tbs, alg, bitString(sign(hash, tbs, key)));
}

/** Returns the DER of a signed certificate. */
export function buildCertificate(spec: CertificateSpec): Buffer {
  const extensions: ExtensionSpec[] = [
    { oid: '2.5.29.19', critical: true, value: spec.ca ? seq(bool(true)) : seq() },
    // keyUsage: keyCertSign + cRLSign for CAs, digitalSignature for leaves.
    { oid: '2.5.29.15', critical: true, value: spec.ca ? Buffer.from([0x03, 0x02, 0x01, 0x06]) : Buffer.from([0x03, 0x02, 0x07, 0x80]) },
    ...(spec.extensions ?? []),
  ];
  const tbs = seq(
    explicit(0, integer(2)),
    integer(spec.serial),
    seq(oid(ECDSA_OID[spec.hash])),
    encodeName(spec.issuer),
    seq(time(spec.notBefore), time(spec.notAfter)),
    encodeName(spec.subject),
    spec.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions.map((e) => seq(oid(e.oid), ...(e.critical ? [bool(true)] : []), octets(e.value))))),
  );
  return signed(tbs, spec.hash, spec.signingKey);
}

/** Returns the DER of a signed v2 CRL listing `revoked` serials. */
export function buildCrl(spec: { issuer: Name; signingKey: KeyObject; hash: 'sha256' | 'sha384'; thisUpdate: Date; nextUpdate: Date; revoked?: Buffer[] }): Buffer {
  const revoked = spec.revoked?.length ? [seq(...spec.revoked.map((serial) => seq(integer(serial), time(spec.thisUpdate))))] : [];
  const tbs = seq(integer(1), seq(oid(ECDSA_OID[spec.hash])), encodeName(spec.issuer), time(spec.thisUpdate), time(spec.nextUpdate), ...revoked);
  return signed(tbs, spec.hash, spec.signingKey);
}

export function toPem(der: Buffer, label = 'CERTIFICATE'): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
