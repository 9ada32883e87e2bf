/**
 * Rego builtins: JSON Web Tokens (JWS compact form). Signatures are checked with node:crypto: HMAC for
 * HS*, RSA PKCS#1 v1.5 for RS*, RSA-PSS for PS*, ECDSA (IEEE P1363 r||s) for ES*, Ed25519 for EdDSA. Keys
 * come as a PEM certificate, a PEM public key, a JWK or a JWK set. decode_verify checks the signature,
 * then exp/nbf against the constraint time, iss and aud; any failure is [false, {}, {}].
 */
import { createHmac, createPrivateKey, createPublicKey, sign as cryptoSign, timingSafeEqual, verify as cryptoVerify, X509Certificate, type KeyObject } from 'node:crypto';
import { BuiltinError } from '../errors.js';
import { parseJsonText } from '../json.js';
import { isNumber, RObject, serializeJson, toDouble, type Value } from '../value.js';
import { expectString, operandTypeError, type BuiltinContext, type BuiltinSpec, type BuiltinTable } from './registry.js';

interface Decoded {
  /** For cty "JWT": the inner token text carried as the payload. */
  innerToken?: string;
  header: RObject;
  payload: RObject;
  signature: Buffer;
  signingInput: string;
}

function b64(part: string, what: string): Buffer {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(part)) {
    const bad = part.search(/[^A-Za-z0-9_=-]/);
    throw new BuiltinError(`JWT ${what} had invalid encoding: illegal base64 data at input byte ${bad}`);
  }
  return Buffer.from(part, 'base64url');
}

function decode(token: string): Decoded {
  const parts = token.split('.');
  if (parts.length === 5) throw new BuiltinError('JWT is a JWE object, which is not supported');
  if (parts.length === 1) throw new BuiltinError('encoded JWT had no period separators');
  if (parts.length !== 3) throw new BuiltinError(`encoded JWT must have 3 sections, found ${parts.length}`);
  const headerText = b64(parts[0], 'header').toString('utf8');
  let header: Value;
  try {
    header = parseJsonText(headerText);
  } catch {
    throw new BuiltinError(`missing or invalid 'alg' header: cannot parse JSON${headerText === '' ? ': cannot parse empty string' : ''}`);
  }
  if (!(header instanceof RObject)) throw new BuiltinError("missing or invalid 'alg' header: cannot parse JSON");
  if (header.get('enc') !== undefined) throw new BuiltinError('JWT is a JWE object, which is not supported');
  if (typeof header.get('alg') !== 'string') throw new BuiltinError(`missing or invalid 'alg' header: jwsbb: header "alg" not found`);
  const payloadBytes = b64(parts[1], 'payload');
  const signature = b64(parts[2], 'signature');
  const signingInput = `${parts[0]}.${parts[1]}`;
  if (header.get('cty') === 'JWT') {
    // The inner token is the payload, either bare or as a JSON string.
    const text = payloadBytes.toString('utf8');
    let inner = text;
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed === 'string') inner = parsed;
    } catch {
      /* a bare token */
    }
    return { header, payload: new RObject(), signature, signingInput, innerToken: inner };
  }
  let payload: Value;
  try {
    payload = parseJsonText(payloadBytes.toString('utf8'));
  } catch {
    throw new BuiltinError('type is JWT but payload is not JSON');
  }
  if (!(payload instanceof RObject)) throw new BuiltinError('type is JWT but payload is not JSON');
  return { header, payload, signature, signingInput };
}

/** Public keys from a PEM certificate, PEM public key, JWK or JWK set. */
function keysFrom(material: string): KeyObject[] {
  const text = material.trim();
  if (text.startsWith('-----BEGIN')) {
    const block = /^-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----/.exec(text);
    if (!block) throw new BuiltinError('failed to extract a Key from the PEM certificate');
    if (text.slice(block[0].length).trim() !== '') throw new BuiltinError('extra data after a PEM certificate block');
    try {
      return [block[1] === 'CERTIFICATE' ? new X509Certificate(block[0]).publicKey : createPublicKey(block[0])];
    } catch {
      throw new BuiltinError(block[1] === 'CERTIFICATE' ? 'failed to parse a PEM certificate' : 'failed to extract a Key from the PEM certificate');
    }
  }
  try {
    const json = JSON.parse(text) as { keys?: unknown[] };
    const jwks = Array.isArray(json.keys) ? json.keys : [json];
    return jwks.map((k) => createPublicKey({ key: k as import('node:crypto').JsonWebKey, format: 'jwk' }));
  } catch {
    throw new BuiltinError('failed to parse a JWK key (set)');
  }
}

const HASHES: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

function verifySignature(alg: string, d: Decoded, material: string, isSecret: boolean): boolean {
  const family = alg.slice(0, 2);
  const hash = HASHES[alg.slice(2)];
  const input = Buffer.from(d.signingInput);
  if (family === 'HS' && hash) {
    if (!isSecret) return false;
    const mac = createHmac(hash, material).update(input).digest();
    return mac.length === d.signature.length && timingSafeEqual(mac, d.signature);
  }
  if (isSecret) return false;
  const keys = keysFrom(material);
  return keys.some((key) => {
    try {
      if (alg === 'EdDSA') return cryptoVerify(null, input, key, d.signature);
      if (!hash) return false;
      if (family === 'RS') return cryptoVerify(hash, input, key, d.signature);
      if (family === 'PS') return cryptoVerify(hash, input, { key, padding: 6, saltLength: Number(alg.slice(2)) / 8 }, d.signature);
      if (family === 'ES') return cryptoVerify(hash, input, { key, dsaEncoding: 'ieee-p1363' }, d.signature);
    } catch {
      return false;
    }
    return false;
  });
}

const verifyWith = (alg: string, isSecret: boolean): BuiltinSpec => ({
  arity: 2,
  fn: (a) => {
    const name = `io.jwt.verify_${alg.toLowerCase()}`;
    const d = decode(expectString(name, a, 0));
    return verifySignature(alg, d, expectString(name, a, 1), isSecret);
  },
});

const CONSTRAINTS = new Set(['cert', 'secret', 'alg', 'iss', 'aud', 'time']);
const INVALID: Value = [false, new RObject(), new RObject()];

function decodeVerify(args: readonly Value[], ctx: BuiltinContext): Value {
  const token = expectString('io.jwt.decode_verify', args, 0);
  const c = args[1];
  if (!(c instanceof RObject)) throw operandTypeError('io.jwt.decode_verify', 2, ['object[string: any]'], c);
  for (const k of c.keys()) if (typeof k !== 'string' || !CONSTRAINTS.has(k)) throw new BuiltinError(`unknown token validation constraint: ${String(k)}`);
  const cert = c.get('cert');
  const secret = c.get('secret');
  if (cert !== undefined && secret !== undefined) throw new BuiltinError('duplicate key constraints');
  if (cert === undefined && secret === undefined) throw new BuiltinError('no key constraint');
  let d: Decoded;
  try {
    d = decode(token);
  } catch {
    return INVALID;
  }
  const alg = d.header.get('alg') as string;
  const wantAlg = c.get('alg');
  if (wantAlg !== undefined && wantAlg !== alg) return INVALID;
  if (!/^(HS|RS|PS|ES)(256|384|512)$|^EdDSA$/.test(alg)) throw new BuiltinError(`unknown JWS algorithm: ${alg}`);
  // Critical header extensions are not understood here, so such tokens are not valid (RFC 7515 4.1.11).
  if (d.header.get('crit') !== undefined) return INVALID;
  const material = String(cert ?? secret);
  const verifies = (x: Decoded, a: string) => {
    try {
      return verifySignature(a, x, material, secret !== undefined);
    } catch {
      return false;
    }
  };
  if (!verifies(d, alg)) return INVALID;
  while (d.header.get('cty') === 'JWT' && d.innerToken) {
    try {
      d = decode(d.innerToken);
    } catch {
      return INVALID;
    }
    if (!verifies(d, d.header.get('alg') as string)) return INVALID;
  }
  const timeValue = c.get('time');
  const now = timeValue !== undefined && isNumber(timeValue) ? toDouble(timeValue) / 1e9 : Number(ctx.nowNs) / 1e9;
  const exp = d.payload.get('exp');
  if (exp !== undefined) {
    if (!isNumber(exp)) throw new BuiltinError('exp value must be a number');
    if (now >= toDouble(exp)) return INVALID;
  }
  const nbf = d.payload.get('nbf');
  if (nbf !== undefined) {
    if (!isNumber(nbf)) throw new BuiltinError('nbf value must be a number');
    if (now < toDouble(nbf)) return INVALID;
  }
  const iss = c.get('iss');
  if (iss !== undefined && d.payload.get('iss') !== iss) return INVALID;
  const aud = c.get('aud');
  const tokenAud = d.payload.get('aud');
  if (tokenAud !== undefined) {
    if (aud === undefined) return INVALID;
    const list = Array.isArray(tokenAud) ? tokenAud : [tokenAud];
    if (!list.some((x) => x === aud)) return INVALID;
  } else if (aud !== undefined) return INVALID;
  return [true, d.header, d.payload];
}

export const builtins: BuiltinTable = {
  'io.jwt.decode': {
    arity: 1,
    fn: (a) => {
      let d = decode(expectString('io.jwt.decode', a, 0));
      // A nested JWT (cty "JWT") carries the inner token as its payload: decode down to it.
      while (d.header.get('cty') === 'JWT' && d.innerToken) d = decode(d.innerToken);
      return [d.header, d.payload, d.signature.toString('hex')];
    },
  },
  'io.jwt.decode_verify': { arity: 2, fn: decodeVerify },
  'io.jwt.verify_hs256': verifyWith('HS256', true),
  'io.jwt.verify_hs384': verifyWith('HS384', true),
  'io.jwt.verify_hs512': verifyWith('HS512', true),
  'io.jwt.verify_rs256': verifyWith('RS256', false),
  'io.jwt.verify_rs384': verifyWith('RS384', false),
  'io.jwt.verify_rs512': verifyWith('RS512', false),
  'io.jwt.verify_ps256': verifyWith('PS256', false),
  'io.jwt.verify_ps384': verifyWith('PS384', false),
  'io.jwt.verify_ps512': verifyWith('PS512', false),
  'io.jwt.verify_es256': verifyWith('ES256', false),
  'io.jwt.verify_es384': verifyWith('ES384', false),
  'io.jwt.verify_es512': verifyWith('ES512', false),
  'io.jwt.verify_eddsa': verifyWith('EdDSA', false),
};

/** Signs header.payload (both given as text) with a JWK (oct for HS*, private RSA/EC/OKP otherwise). */
function encodeSignRaw(headerText: string, payloadText: string, keyText: string): string {
  let header: Value;
  try {
    header = parseJsonText(headerText);
  } catch {
    // OPA's JWS library first looks for "alg" in the raw text: text without it is "not found", not "cannot parse".
    if (headerText !== '' && !headerText.includes('"alg"')) throw new BuiltinError(`missing or invalid 'alg' header: jwsbb: header "alg" not found`);
    throw new BuiltinError(`missing or invalid 'alg' header: cannot parse JSON${headerText === '' ? ': cannot parse empty string' : ''}`);
  }
  const alg = header instanceof RObject ? header.get('alg') : undefined;
  if (typeof alg !== 'string') throw new BuiltinError(`missing or invalid 'alg' header: jwsbb: header "alg" not found`);
  if (!/^(HS|RS|PS|ES)(256|384|512)$|^EdDSA$/.test(alg)) throw new BuiltinError(`unknown JWS algorithm: ${alg}`);
  const typ = (header as RObject).get('typ');
  if (typ === undefined || typ === 'JWT') {
    try {
      if (!(parseJsonText(payloadText) instanceof RObject)) throw new Error('not an object');
    } catch {
      throw new BuiltinError('type is JWT but payload is not JSON');
    }
  }
  let jwk: import('node:crypto').JsonWebKey;
  try {
    jwk = JSON.parse(keyText) as import('node:crypto').JsonWebKey;
  } catch {
    throw new BuiltinError('invalid JWK: not JSON');
  }
  const signingInput = `${Buffer.from(headerText).toString('base64url')}.${Buffer.from(payloadText).toString('base64url')}`;
  const input = Buffer.from(signingInput);
  const hash = HASHES[alg.slice(2)];
  let signature: Buffer;
  try {
    if (alg.startsWith('HS')) signature = createHmac(hash, Buffer.from(String(jwk.k ?? ''), 'base64url')).update(input).digest();
    else {
      const key = createPrivateKey({ key: jwk, format: 'jwk' });
      if (alg === 'EdDSA') signature = cryptoSign(null, input, key);
      else if (alg.startsWith('RS')) signature = cryptoSign(hash, input, key);
      else if (alg.startsWith('PS')) signature = cryptoSign(hash, input, { key, padding: 6, saltLength: Number(alg.slice(2)) / 8 });
      else signature = cryptoSign(hash, input, { key, dsaEncoding: 'ieee-p1363' });
    }
  } catch (error) {
    throw new BuiltinError(`failed to sign JWT: ${(error as Error).message}`);
  }
  return `${signingInput}.${signature.toString('base64url')}`;
}

builtins['io.jwt.encode_sign_raw'] = {
  arity: 3,
  fn: (a) => encodeSignRaw(expectString('io.jwt.encode_sign_raw', a, 0), expectString('io.jwt.encode_sign_raw', a, 1), expectString('io.jwt.encode_sign_raw', a, 2)),
};
builtins['io.jwt.encode_sign'] = {
  arity: 3,
  fn: ([h, p, k]) => {
    if (!(h instanceof RObject)) throw operandTypeError('io.jwt.encode_sign', 1, ['object[string: any]'], h);
    if (!(p instanceof RObject)) throw operandTypeError('io.jwt.encode_sign', 2, ['object[string: any]'], p);
    if (!(k instanceof RObject)) throw operandTypeError('io.jwt.encode_sign', 3, ['object[string: any]'], k);
    return encodeSignRaw(serializeJson(h), serializeJson(p), serializeJson(k));
  },
};
