/**
 * Rego builtins: X.509 certificates (node:crypto). Results follow the JSON of Go's x509.Certificate for
 * the fields policies read: Subject/Issuer (pkix.Name), DNSNames, EmailAddresses, IPAddresses,
 * URIStrings (null when absent, as Go marshals nil slices), NotBefore/NotAfter, SerialNumber, IsCA.
 * Input: PEM text, base64 of PEM, or base64 of one or more concatenated DER certificates.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { BuiltinError } from '../errors.js';
import { fromJson, numFromText, RObject, type Value } from '../value.js';
import { expectString, type BuiltinTable } from './registry.js';
import { parseCertificateRequest } from './x509-csr.js';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Splits concatenated DER SEQUENCEs. */
function splitDer(der: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  while (offset < der.length) {
    if (der[offset] !== 0x30 || offset + 2 > der.length) throw new BuiltinError('x509: malformed certificate');
    let length = der[offset + 1];
    let header = 2;
    if (length & 0x80) {
      const n = length & 0x7f;
      if (n === 0 || n > 4 || offset + 2 + n > der.length) throw new BuiltinError('x509: malformed certificate');
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + der[offset + 2 + i];
      header += n;
    }
    const end = offset + header + length;
    if (end > der.length) throw new BuiltinError('x509: malformed certificate');
    out.push(der.subarray(offset, end));
    offset = end;
  }
  return out;
}

function certificates(input: string): X509Certificate[] {
  let text = input;
  if (!text.includes('-----BEGIN')) {
    const bad = text.search(/[^A-Za-z0-9+/=\s]/);
    if (bad >= 0) throw new BuiltinError(`illegal base64 data at input byte ${bad}`);
    const compact = text.replace(/\s/g, '');
    // Go's standard encoding wants padded input: a ragged end is an error where the last quantum starts.
    if (compact.length % 4 !== 0) throw new BuiltinError(`illegal base64 data at input byte ${compact.length - (compact.length % 4)}`);
    const decoded = Buffer.from(text, 'base64');
    const asText = decoded.toString('latin1');
    if (!asText.includes('-----BEGIN')) {
      try {
        return splitDer(decoded).map((der) => new X509Certificate(der));
      } catch (error) {
        if (error instanceof BuiltinError) throw error;
        throw new BuiltinError('x509: malformed certificate');
      }
    }
    text = asText;
  }
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new BuiltinError('x509: no certificates found');
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch {
    throw new BuiltinError('x509: malformed certificate');
  }
}

const NAME_FIELDS: Record<string, string> = { C: 'Country', O: 'Organization', OU: 'OrganizationalUnit', L: 'Locality', ST: 'Province', street: 'StreetAddress', postalCode: 'PostalCode' };

function pkixName(dn: string): Record<string, unknown> {
  const out: Record<string, unknown> = { Country: null, Organization: null, OrganizationalUnit: null, Locality: null, Province: null, StreetAddress: null, PostalCode: null, SerialNumber: '', CommonName: '' };
  for (const line of dn.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'CN') out.CommonName = value;
    else if (key === 'serialNumber') out.SerialNumber = value;
    else if (NAME_FIELDS[key]) out[NAME_FIELDS[key]] = [...((out[NAME_FIELDS[key]] as string[] | null) ?? []), value];
  }
  return out;
}

function altNames(cert: X509Certificate, prefix: string): string[] | null {
  const names = (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((n) => n.startsWith(prefix))
    .map((n) => n.slice(prefix.length));
  return names.length ? names : null;
}

function certificateJson(cert: X509Certificate): Value {
  const json = {
    Subject: pkixName(cert.subject),
    Issuer: pkixName(cert.issuer),
    DNSNames: altNames(cert, 'DNS:'),
    EmailAddresses: altNames(cert, 'email:'),
    IPAddresses: altNames(cert, 'IP Address:'),
    URIStrings: altNames(cert, 'URI:'),
    NotBefore: new Date(cert.validFrom).toISOString().replace('.000Z', 'Z'),
    NotAfter: new Date(cert.validTo).toISOString().replace('.000Z', 'Z'),
    IsCA: cert.ca,
    Version: 3,
  };
  const out = fromJson(json) as RObject;
  out.set('SerialNumber', numFromText(BigInt('0x' + cert.serialNumber).toString()));
  return out;
}

export const builtins: BuiltinTable = {
  'crypto.x509.parse_certificates': {
    arity: 1,
    fn: (a) => certificates(expectString('crypto.x509.parse_certificates', a, 0)).map(certificateJson),
  },
  'crypto.x509.parse_and_verify_certificates': {
    arity: 1,
    fn: (a) => {
      const certs = certificates(expectString('crypto.x509.parse_and_verify_certificates', a, 0));
      // The chain is given root first and leaf last (OPA): each certificate must be issued by the one before it.
      const ok = certs.length > 0 && certs.every((c, i) => (i === 0 ? c.checkIssued(c) && c.verify(c.publicKey) : c.checkIssued(certs[i - 1]) && c.verify(certs[i - 1].publicKey)));
      return ok ? [true, certs.slice().reverse().map(certificateJson)] : [false, []];
    },
  },
};

const PRIVATE_KEY_BLOCK = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]+?-----END \1PRIVATE KEY-----/g;

/** PEM text, or base64 of PEM, as OPA accepts key material. */
function pemText(name: string, input: string): string {
  if (input.includes('-----BEGIN')) return input;
  const bad = input.search(/[^A-Za-z0-9+/=\s]/);
  if (bad >= 0) throw new BuiltinError(`${name}: illegal base64 data at input byte ${bad}`);
  const compact = input.replace(/\s+/g, '');
  // Go's StdEncoding needs whole 4-character groups.
  if (compact.length % 4 !== 0) throw new BuiltinError(`${name}: illegal base64 data at input byte ${compact.length - (compact.length % 4)}`);
  return Buffer.from(compact, 'base64').toString('utf8');
}

function privateKeyJwk(pem: string): Value {
  return fromJson(createPrivateKey(pem).export({ format: 'jwk' }));
}

builtins['crypto.x509.parse_rsa_private_key'] = {
  arity: 1,
  fn: (a) => {
    const pem = pemText('crypto.x509.parse_rsa_private_key', expectString('crypto.x509.parse_rsa_private_key', a, 0));
    try {
      return privateKeyJwk(pem);
    } catch {
      throw new BuiltinError('crypto.x509.parse_rsa_private_key: failed to parse RSA private key');
    }
  },
};

builtins['crypto.parse_private_keys'] = {
  arity: 1,
  fn: (a) => {
    const input = expectString('crypto.parse_private_keys', a, 0);
    if (input === '') return null;
    let text: string;
    try {
      text = pemText('crypto.parse_private_keys', input);
    } catch {
      return [];
    }
    const out: Value[] = [];
    for (const block of text.match(PRIVATE_KEY_BLOCK) ?? []) {
      try {
        out.push(privateKeyJwk(block));
      } catch {
        /* blocks that do not parse are skipped, as OPA does */
      }
    }
    return out;
  },
};

/**
 * crypto.x509.parse_keypair(cert, key): Go's tls.X509KeyPair. The certificate chain (PEM or base64 of
 * PEM) and a private key that must match the first certificate's public key. The result has Go's
 * tls.Certificate field names; the private key itself is left out (`PrivateKey: null`) so key
 * material never flows on into policy values, decision logs or prints.
 */
builtins['crypto.x509.parse_keypair'] = {
  arity: 2,
  fn: (args) => {
    const chain = certificates(pemText('crypto.x509.parse_keypair', expectString('crypto.x509.parse_keypair', args, 0)));
    const keyPem = pemText('crypto.x509.parse_keypair', expectString('crypto.x509.parse_keypair', args, 1));
    let matches: boolean;
    try {
      matches = chain[0].checkPrivateKey(createPrivateKey(keyPem));
    } catch {
      throw new BuiltinError('tls: failed to find any PEM data in key input');
    }
    if (!matches) throw new BuiltinError('tls: private key does not match public key');
    return fromJson({
      Certificate: chain.map((c) => c.raw.toString('base64')),
      PrivateKey: null,
      SupportedSignatureAlgorithms: null,
      OCSPStaple: null,
      SignedCertificateTimestamps: null,
      Leaf: null,
    });
  },
};

const CSR_BLOCK = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([\s\S]+?)-----END (?:NEW )?CERTIFICATE REQUEST-----/;

/** crypto.x509.parse_certificate_request: PEM, base64 of PEM, or base64 of DER; Go's field names. */
builtins['crypto.x509.parse_certificate_request'] = {
  arity: 1,
  fn: (args) => {
    const input = expectString('crypto.x509.parse_certificate_request', args, 0);
    let der: Buffer;
    const pem = CSR_BLOCK.exec(input.includes('-----BEGIN') ? input : pemText('crypto.x509.parse_certificate_request', input).replace(/^crypto\.x509\.parse_certificate_request: /, ''));
    if (pem) der = Buffer.from(pem[1].replace(/\s+/g, ''), 'base64');
    else if (input.includes('-----BEGIN')) throw new BuiltinError('x509: failed to decode PEM block containing certificate request');
    else der = Buffer.from(input.replace(/\s+/g, ''), 'base64');
    const csr = parseCertificateRequest(der);
    return fromJson({
      Raw: csr.raw.toString('base64'),
      RawTBSCertificateRequest: csr.rawTbs.toString('base64'),
      RawSubjectPublicKeyInfo: csr.rawSubjectPublicKeyInfo.toString('base64'),
      RawSubject: csr.rawSubject.toString('base64'),
      Version: csr.version,
      PublicKeyAlgorithm: csr.publicKeyAlgorithm,
      Subject: pkixName(csr.subjectText),
    });
  },
};
