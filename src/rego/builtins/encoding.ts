/** Rego builtins: encodings (base64 padded like Go, base64url, hex, JSON). */
import { BuiltinError } from '../errors.js';
import { parseJsonText } from '../json.js';
import { serializeJson, type Value } from '../value.js';
import { expectString, type BuiltinTable } from './registry.js';

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
