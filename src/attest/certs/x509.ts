/**
 * X.509 helpers over node:crypto's X509Certificate: reading PEM/DER bundles, reading extensions by OID
 * (node does not expose vendor extensions), validity at a pinned time, fingerprints, and CRLs.
 */
import { X509Certificate, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import { AttestationError, EvidenceFormatError } from '../claims.js';
import { DerError, Tag, children, decodeTime, expectTag, readOne, readSignedEnvelope, decodeOid, type DerNode } from './der.js';
import { strictHex } from './hex.js';

const PEM_CERT = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/**
 * Decodes a PEM body strictly: line breaks only, and the text must be the canonical base64 of what it
 * decodes to. Node's decoder skips stray characters and ignores unused bits, so without this an
 * altered copy of a quote's PEM chain would still be accepted.
 */
function strictBase64(body: string): Buffer {
  const compact = body.replace(/\r?\n/g, '');
  const der = Buffer.from(compact, 'base64');
  if (der.toString('base64') !== compact) throw new Error('PEM body is not canonical base64');
  return der;
}

/** A certificate's TBS: [0] version?, serialNumber, signature AlgorithmIdentifier, ... */
const certTbsAlgorithm = (fields: DerNode[]): DerNode | undefined => fields[fields[0]?.tag === 0xa0 ? 2 : 1];

/** Node's parser tolerates a differing outer signature algorithm and unused bits; ours does not. */
function strictCertificate(der: Buffer): X509Certificate {
  readSignedEnvelope(der, certTbsAlgorithm);
  return new X509Certificate(der);
}

/** Reads every certificate in a PEM bundle, or a single DER certificate. */
export function parseCertificates(data: Buffer | string, what = 'certificate', options: { strict?: boolean } = {}): X509Certificate[] {
  const text = typeof data === 'string' ? data : data.subarray(0, 64).includes('-----BEGIN') ? data.toString('latin1') : undefined;
  try {
    if (text === undefined) return [strictCertificate(data as Buffer)];
    const ders = [...text.matchAll(PEM_CERT)].map((m) => strictBase64(m[1]));
    if (ders.length === 0) throw new Error('no PEM certificate block');
    // Strict (a chain inside signed evidence): between and around the blocks only line breaks (and the
    // NUL some quoting enclaves append), so no byte of the evidence can change unnoticed.
    if (options.strict && !/^[\r\n\0]*$/.test(text.replace(PEM_CERT, ''))) throw new Error('unexpected text around the PEM certificate blocks');
    return ders.map(strictCertificate);
  } catch (error) {
    throw new EvidenceFormatError('cert_malformed', `${what} cannot be read as an X.509 certificate: ${(error as Error).message}`, {
      hint: 'pass DER or PEM certificates as the host or KDS/PCS served them',
      cause: error,
    });
  }
}

export { sha256Hex } from '../../core/hash.js';

export function commonName(cert: X509Certificate): string {
  return /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? '';
}

/** The extnValue contents (inside the OCTET STRING) of every extension, by dotted OID. */
export function extensions(cert: X509Certificate): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  try {
    const tbs = children(readOne(cert.raw))[0];
    const ext = children(tbs).find((n) => n.tag === 0xa3);
    if (!ext) return out;
    for (const e of children(children(ext)[0])) {
      const parts = children(e);
      const value = expectTag(parts[parts.length - 1], Tag.OctetString, 'extnValue');
      out.set(decodeOid(expectTag(parts[0], Tag.Oid, 'extnID').value), value.value);
    }
  } catch (error) {
    if (error instanceof DerError) {
      throw new EvidenceFormatError('cert_malformed', `certificate ${commonName(cert)} has malformed extensions: ${error.message}`, { cause: error });
    }
    throw error;
  }
  return out;
}

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

export function validity(cert: X509Certificate): Validity {
  return { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

/** Throws `cert_expired` / `cert_not_yet_valid` unless `at` falls inside the certificate's window. */
export function checkValidity(name: string, v: Validity, at: Date): void {
  if (at < v.notBefore) {
    throw new AttestationError('cert_not_yet_valid', `${name} is not valid before ${v.notBefore.toISOString()} (checked at ${at.toISOString()})`, {
      hint: 'check the clock, or pass --at with the time the evidence was produced',
    });
  }
  if (at > v.notAfter) {
    throw new AttestationError('cert_expired', `${name} expired at ${v.notAfter.toISOString()} (checked at ${at.toISOString()})`, {
      hint: 'fetch a current certificate from the vendor (AMD KDS, Intel PCS)',
    });
  }
}

/** True when `cert` is signed by `issuer` (names match and the signature verifies). */
export function isIssuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

// ---- CRLs ----

export interface Crl {
  issuer: string;
  thisUpdate: Date;
  nextUpdate?: Date;
  /** Revoked serial numbers, upper-case hex without leading zeros (as X509Certificate.serialNumber). */
  revoked: Set<string>;
  tbs: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
  raw: Buffer;
}

const normaliseSerial = (hex: string): string => hex.toUpperCase().replace(/^0+(?=.)/, '');

/** A CRL's TBS: version?, signature AlgorithmIdentifier, issuer, ... */
const crlTbsAlgorithm = (fields: DerNode[]): DerNode | undefined => fields[fields[0]?.tag === Tag.Integer ? 1 : 0];

function crlBytes(data: Buffer | string): Buffer {
  const text = typeof data === 'string' ? data : data.subarray(0, 64).includes('-----BEGIN') || /^[0-9a-fA-F\s]+$/.test(data.toString('latin1')) ? data.toString('latin1') : undefined;
  if (text === undefined) return data as Buffer;
  if (text.includes('-----BEGIN')) {
    const m = /^\s*-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----\s*$/.exec(text);
    if (!m) throw new DerError('PEM CRL must be one X509 CRL block and nothing else');
    return strictBase64(m[1].trim());
  }
  const der = strictHex(text);
  if (!der) throw new DerError('hex CRL holds characters other than hex digits, or an odd number of them');
  return der;
}

/** Parses a DER (or PEM, or hex-of-DER as Intel's PCS JSON carries it) CRL, strictly. */
export function parseCrl(data: Buffer | string, what = 'CRL'): Crl {
  try {
    const der = crlBytes(data);
    const envelope = readSignedEnvelope(der, crlTbsAlgorithm);
    const fields = envelope.tbsFields;
    let i = 0;
    if (fields[i].tag === Tag.Integer) i++; // version
    i++; // signature algorithm
    const issuer = expectTag(fields[i++], Tag.Sequence, 'issuer');
    const thisUpdate = decodeTime(fields[i++]);
    let nextUpdate: Date | undefined;
    if (fields[i] && (fields[i].tag === Tag.UtcTime || fields[i].tag === Tag.GeneralizedTime)) nextUpdate = decodeTime(fields[i++]);
    const revoked = new Set<string>();
    if (fields[i] && fields[i].tag === Tag.Sequence) {
      for (const entry of children(fields[i])) revoked.add(normaliseSerial(expectTag(children(entry)[0], Tag.Integer, 'serial').value.toString('hex')));
    }
    return {
      issuer: issuer.raw.toString('hex'),
      thisUpdate,
      nextUpdate,
      revoked,
      tbs: envelope.tbs.raw,
      signatureAlgorithm: envelope.algorithm,
      signature: envelope.signature,
      raw: der,
    };
  } catch (error) {
    throw new EvidenceFormatError('crl_malformed', `${what} cannot be read: ${(error as Error).message}`, { cause: error });
  }
}

const SIG_HASH: Record<string, string> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.10': 'sha384', // RSASSA-PSS: AMD uses SHA-384 with a 48-byte salt
};

/** The issuer's subject Name DER, to match against a CRL's issuer. */
export function subjectDer(cert: X509Certificate): string {
  const tbs = children(children(readOne(cert.raw))[0]);
  const off = tbs[0].tag === 0xa0 ? 1 : 0;
  return (tbs[off + 4] as DerNode).raw.toString('hex');
}

/** CRL signatures already checked, per parsed CRL and issuer object (both are cached by the verifiers). */
const verifiedCrls = new WeakMap<Crl, WeakSet<X509Certificate>>();

function crlSignedBy(crl: Crl, issuer: X509Certificate): boolean {
  if (verifiedCrls.get(crl)?.has(issuer)) return true;
  const hash = SIG_HASH[crl.signatureAlgorithm];
  if (!hash || crl.issuer !== subjectDer(issuer)) return false;
  const key: KeyObject = issuer.publicKey;
  const pss = crl.signatureAlgorithm === '1.2.840.113549.1.1.10';
  let ok = false;
  try {
    ok = cryptoVerify(hash, crl.tbs, pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 } : key, crl.signature);
  } catch {
    ok = false;
  }
  if (ok) {
    const set = verifiedCrls.get(crl) ?? new WeakSet<X509Certificate>();
    set.add(issuer);
    verifiedCrls.set(crl, set);
  }
  return ok;
}

/**
 * Checks a CRL against its issuer (signature, names, validity at `at`) and that none of `certs` is on it.
 * Codes: `crl_invalid`, `crl_expired`, `cert_revoked`.
 */
export function checkCrl(crl: Crl, issuer: X509Certificate, certs: X509Certificate[], at: Date, what: string): void {
  if (!crlSignedBy(crl, issuer)) throw new AttestationError('crl_invalid', `${what} is not signed by ${commonName(issuer)}`, { hint: 'fetch the CRL from the issuing CA' });
  checkCrlTime(crl, at, what);
  for (const cert of certs) {
    if (crl.revoked.has(normaliseSerial(cert.serialNumber))) {
      throw new AttestationError('cert_revoked', `certificate ${commonName(cert)} (serial ${cert.serialNumber}) is revoked by ${what}`);
    }
  }
}

/** Throws `crl_expired` unless `at` falls between the CRL's thisUpdate and nextUpdate. */
export function checkCrlTime(crl: Crl, at: Date, what: string): void {
  if (at < crl.thisUpdate || (crl.nextUpdate && at > crl.nextUpdate)) {
    throw new AttestationError('crl_expired', `${what} is not current at ${at.toISOString()} (thisUpdate ${crl.thisUpdate.toISOString()}, nextUpdate ${crl.nextUpdate?.toISOString() ?? 'none'})`, {
      hint: 'fetch a current CRL',
    });
  }
}
