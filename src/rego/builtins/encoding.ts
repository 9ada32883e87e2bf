/** Rego builtins: encodings (base64 padded like Go, base64url, hex, JSON). */
import { parse as parseYaml, stringify as stringifyYaml, YAMLParseError } from '../../core/yaml.js';
import { BuiltinError, EvalTypeError } from '../errors.js';
import { parseJsonText } from '../json.js';
import { fromJson, RObject, RSet, serializeJson, toJson, type Value } from '../value.js';
import { spend } from './budget.js';
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
      const bad = s.search(/[^0-9a-fA-F]/);
      if (bad >= 0) {
        const c = s.codePointAt(bad) as number;
        throw new BuiltinError(`hex.decode: encoding/hex: invalid byte: U+${c.toString(16).toUpperCase().padStart(4, '0')} '${String.fromCodePoint(c)}'`);
      }
      if (s.length % 2 !== 0) throw new BuiltinError('hex.decode: encoding/hex: odd length hex string');
      return Buffer.from(s, 'hex').toString('utf8');
    },
  },
  'json.marshal': { arity: 1, fn: ([v]) => serializeJson(v) },
  'json.unmarshal': {
    arity: 1,
    fn: (a) => {
      const text = expectString('json.unmarshal', a, 0);
      try {
        return parseJsonText(text);
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

/** Indented JSON of a value (Go's json.MarshalIndent): keys sorted, sets as sorted arrays. */
function indentJson(v: Value, indent: string, depth: number, lines: (padLength: number) => void): string {
  const pad = indent.repeat(depth + 1);
  lines(pad.length);
  const close = indent.repeat(depth);
  if (Array.isArray(v) || v instanceof RSet) {
    const items = Array.isArray(v) ? v : v.sorted();
    if (items.length === 0) return '[]';
    return '[\n' + items.map((x) => pad + indentJson(x, indent, depth + 1, lines)).join(',\n') + '\n' + close + ']';
  }
  if (v instanceof RObject) {
    if (v.size === 0) return '{}';
    const entries = v.sortedEntries().map(([k, x]) => [typeof k === 'string' ? k : serializeJson(k), x] as const);
    return '{\n' + entries.map(([k, x]) => `${pad}${JSON.stringify(k)}: ${indentJson(x, indent, depth + 1, lines)}`).join(',\n') + '\n' + close + '}';
  }
  return serializeJson(v);
}

const MARSHAL_OPTIONS = new Set(['pretty', 'indent', 'prefix']);

builtins['json.marshal_with_options'] = {
  arity: 2,
  fn: ([v, options], ctx) => {
    if (!(options instanceof RObject)) throw operandTypeError('json.marshal_with_options', 2, ['object[string: any]'], options);
    for (const k of options.keys()) {
      if (typeof k !== 'string' || !MARSHAL_OPTIONS.has(k)) throw new EvalTypeError(`json.marshal_with_options: object contained unknown key ${JSON.stringify(k)}`);
    }
    const pretty = options.get('pretty');
    const indent = options.get('indent');
    const prefix = options.get('prefix');
    if (pretty !== undefined && typeof pretty !== 'boolean') throw new EvalTypeError('json.marshal_with_options: "pretty" must be a boolean');
    if (indent !== undefined && typeof indent !== 'string') throw new EvalTypeError('json.marshal_with_options: "indent" must be a string');
    if (prefix !== undefined && typeof prefix !== 'string') throw new EvalTypeError('json.marshal_with_options: "prefix" must be a string');
    const enabled = pretty ?? (indent !== undefined || prefix !== undefined);
    if (!enabled) return serializeJson(v);
    // Indentation grows with depth times the indent's length: count it as the lines are built.
    let padding = 0;
    const lines = (padLength: number): void => spend(ctx, 'json.marshal_with_options', (padding += padLength + ((prefix as string | undefined)?.length ?? 0)));
    return indentJson(v, (indent as string | undefined) ?? '\t', 0, lines)
      .split('\n')
      .map((line) => ((prefix as string | undefined) ?? '') + line)
      .join('\n');
  },
};

builtins['yaml.marshal'] = { arity: 1, fn: ([v]) => stringifyYaml(toJson(v)) };
/** go-yaml's wording for the parse errors policies are most likely to meet (OPA passes go-yaml's text on). */
const GO_YAML_TEXT: readonly [code: string, pattern: RegExp, text: string][] = [
  ['MISSING_CHAR', /^Flow sequence/, "did not find expected ',' or ']'"],
  ['MISSING_CHAR', /^Flow map/, "did not find expected ',' or '}'"],
  ['MISSING_CHAR', /closing/, 'found unexpected end of stream'],
  ['BAD_INDENT', /^Flow sequence/, "did not find expected ',' or ']'"],
  ['BAD_INDENT', /^Flow map/, "did not find expected ',' or '}'"],
  ['BAD_INDENT', /./, 'did not find expected key'],
  ['BLOCK_AS_IMPLICIT_KEY', /./, 'mapping values are not allowed in this context'],
  ['TAB_AS_INDENT', /./, 'found character that cannot start any token'],
];

function goYamlMessage(error: unknown): string {
  if (!(error instanceof YAMLParseError)) return (error as Error).message;
  const line = error.linePos?.[0].line ?? 1;
  const first = error.message.split(' at line ')[0];
  const go = GO_YAML_TEXT.find(([code, pattern]) => code === error.code && pattern.test(first));
  return `yaml: line ${line}: ${go ? go[2] : first}`;
}

builtins['yaml.unmarshal'] = {
  arity: 1,
  fn: (a) => {
    const text = expectString('yaml.unmarshal', a, 0);
    try {
      return fromJson(parseYaml(text, { logLevel: 'error' }) as unknown);
    } catch (error) {
      throw new BuiltinError(`yaml.unmarshal: ${goYamlMessage(error)}`);
    }
  },
};
builtins['yaml.is_valid'] = {
  arity: 1,
  fn: ([v]) => {
    if (typeof v !== 'string') return false;
    try {
      parseYaml(v, { logLevel: 'error' });
      return true;
    } catch {
      return false;
    }
  },
};
