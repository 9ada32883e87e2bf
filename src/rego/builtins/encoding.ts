/** Rego builtins: encodings (base64 padded like Go, base64url, hex, JSON). */
import { BuiltinError } from '../errors.js';
import { parseJsonText } from '../json.js';
import { RObject, RSet, serializeJson, type Value } from '../value.js';
import { expectString, operandTypeError, type BuiltinTable } from './registry.js';

const STD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL = /^[A-Za-z0-9_-]*={0,2}$/;

function decodeBase64(name: string, s: string, url: boolean): string {
  const clean = s;
  if (!(url ? URL : STD).test(clean) || (!url && clean.length % 4 !== 0)) throw new BuiltinError(`${name}: illegal base64 data at input byte 0`);
  return Buffer.from(clean, url ? 'base64url' : 'base64').toString('utf8');
}

export const builtins: BuiltinTable = {
  'base64.encode': { arity: 1, fn: (a) => Buffer.from(expectString('base64.encode', a, 0)).toString('base64') },
  'base64.decode': { arity: 1, fn: (a) => decodeBase64('base64.decode', expectString('base64.decode', a, 0), false) },
  'base64.is_valid': { arity: 1, fn: (a) => { const s = expectString('base64.is_valid', a, 0); return STD.test(s) && s.length % 4 === 0; } },
  'base64url.encode': { arity: 1, fn: (a) => { const b = Buffer.from(expectString('base64url.encode', a, 0)).toString('base64url'); return b + '='.repeat((4 - (b.length % 4)) % 4); } },
  'base64url.encode_no_pad': { arity: 1, fn: (a) => Buffer.from(expectString('base64url.encode_no_pad', a, 0)).toString('base64url') },
  'base64url.decode': { arity: 1, fn: (a) => decodeBase64('base64url.decode', expectString('base64url.decode', a, 0), true) },
  'hex.encode': { arity: 1, fn: (a) => Buffer.from(expectString('hex.encode', a, 0)).toString('hex') },
  'hex.decode': {
    arity: 1,
    fn: (a) => {
      const s = expectString('hex.decode', a, 0);
      if (!/^([0-9a-fA-F]{2})*$/.test(s)) throw new BuiltinError(`hex.decode: invalid byte in ${JSON.stringify(s)}`);
      return Buffer.from(s, 'hex').toString('utf8');
    },
  },
  'json.marshal': { arity: 1, fn: ([v]) => serializeJson(v) },
  'json.unmarshal': {
    arity: 1,
    fn: (a) => {
      try {
        return parseJsonText(expectString('json.unmarshal', a, 0));
      } catch (error) {
        throw new BuiltinError(`json.unmarshal: ${(error as Error).message}`);
      }
    },
  },
  'json.is_valid': {
    arity: 1,
    fn: ([v]: readonly Value[]) => {
      if (typeof v !== 'string') return false;
      try {
        JSON.parse(v);
        return true;
      } catch {
        return false;
      }
    },
  },
};

/** Go's url.QueryEscape: unreserved characters stay, space becomes '+', everything else %XX (UTF-8). */
function queryEscape(s: string): string {
  return Array.from(Buffer.from(s, 'utf8'))
    .map((b) => {
      const c = String.fromCharCode(b);
      if (/[A-Za-z0-9\-_.~]/.test(c)) return c;
      if (c === ' ') return '+';
      return '%' + b.toString(16).toUpperCase().padStart(2, '0');
    })
    .join('');
}

function queryUnescape(name: string, s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '+') bytes.push(0x20);
    else if (c === '%') {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new BuiltinError(`${name}: invalid URL escape ${JSON.stringify('%' + hex)}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

builtins['urlquery.encode'] = { arity: 1, fn: (a) => queryEscape(expectString('urlquery.encode', a, 0)) };
builtins['urlquery.decode'] = { arity: 1, fn: (a) => queryUnescape('urlquery.decode', expectString('urlquery.decode', a, 0)) };
builtins['urlquery.encode_object'] = {
  arity: 1,
  fn: ([o]) => {
    if (!(o instanceof RObject)) throw operandTypeError('urlquery.encode_object', 1, ['object[string: any<string, array[string], set[string]>]'], o);
    const pairs: string[] = [];
    for (const [k, v] of [...o.entries()].sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1))) {
      if (typeof k !== 'string') throw operandTypeError('urlquery.encode_object', 1, ['object[string: any<string, array[string], set[string]>]'], o);
      const values = typeof v === 'string' ? [v] : Array.isArray(v) ? v : v instanceof RSet ? v.sorted() : undefined;
      if (!values || values.some((x) => typeof x !== 'string')) throw operandTypeError('urlquery.encode_object', 1, ['object[string: any<string, array[string], set[string]>]'], o);
      for (const x of values) pairs.push(`${queryEscape(k)}=${queryEscape(x as string)}`);
    }
    return pairs.join('&');
  },
};
builtins['urlquery.decode_object'] = {
  arity: 1,
  fn: (a) => {
    const out = new RObject();
    for (const part of expectString('urlquery.decode_object', a, 0).split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const k = queryUnescape('urlquery.decode_object', eq < 0 ? part : part.slice(0, eq));
      const v = eq < 0 ? '' : queryUnescape('urlquery.decode_object', part.slice(eq + 1));
      out.set(k, [...((out.get(k) as Value[] | undefined) ?? []), v]);
    }
    return out;
  },
};
