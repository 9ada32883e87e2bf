/** Rego builtins: strings. Lengths and offsets count Unicode code points, as OPA does. */
import { BuiltinError, EvalTypeError } from '../errors.js';
import { formatValue } from '../format.js';
import { compareStrings, RObject, isInteger, isNumber, numFromText, RSet, toDouble, typeName, type Value } from '../value.js';
import { checkDeadline, spend } from './budget.js';
import { expectString, operandTypeError, type BuiltinContext, type BuiltinTable } from './registry.js';

const str = expectString;

function codePoints(s: string): string[] {
  return Array.from(s);
}

function int(name: string, args: readonly Value[], i: number): number {
  const v = args[i];
  if (!isNumber(v)) throw operandTypeError(name, i + 1, ['number'], v);
  if (!isInteger(v)) throw new BuiltinError(`${name}: operand ${i + 1} must be integer number but got floating-point number`);
  return toDouble(v);
}

/** Go strings.NewReplacer semantics: leftmost match, earlier (sorted-key) pattern wins at a position. */
function replaceN(patterns: Value | undefined, value: string, ctx: BuiltinContext): string {
  if (!(patterns instanceof RObject)) throw operandTypeError('strings.replace_n', 1, ['object'], patterns ?? null);
  const pairs: [string, string][] = [];
  for (const [k, v] of patterns.entries()) {
    if (typeof k !== 'string') throw new EvalTypeError('strings.replace_n: operand 1 non-string key found in pattern object');
    if (typeof v !== 'string') throw new EvalTypeError('strings.replace_n: operand 1 non-string value found in pattern object');
    pairs.push([k, v]);
  }
  pairs.sort((a, b) => compareStrings(a[0], b[0]));
  // An empty pattern matches at every position (Go inserts its replacement between characters), but not twice
  // in a row at one position, so a non-empty pattern can still match after it.
  let out = '';
  let last = 0;
  let prevEmpty = false;
  for (let i = 0; i <= value.length; ) {
    const hit = pairs.find(([k]) => (k === '' ? !prevEmpty : value.startsWith(k, i)));
    prevEmpty = hit !== undefined && hit[0] === '';
    if ((i & 0xfff) === 0) checkDeadline(ctx, 'strings.replace_n');
    if (hit) {
      out += value.slice(last, i) + hit[1];
      spend(ctx, 'strings.replace_n', out.length);
      i += hit[0].length;
      last = i;
      continue;
    }
    i += (value.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
  }
  return out + value.slice(last);
}

function trimSet(cutset: string): Set<string> {
  return new Set(codePoints(cutset));
}
function trimLeft(s: string, cut: Set<string>): string {
  const cps = codePoints(s);
  let i = 0;
  while (i < cps.length && cut.has(cps[i])) i++;
  return cps.slice(i).join('');
}
function trimRight(s: string, cut: Set<string>): string {
  const cps = codePoints(s);
  let j = cps.length;
  while (j > 0 && cut.has(cps[j - 1])) j--;
  return cps.slice(0, j).join('');
}

export const builtins: BuiltinTable = {
  concat: {
    arity: 2,
    fn: (args) => {
      const sep = str('concat', args, 0);
      const coll = args[1];
      const items = Array.isArray(coll) ? coll : coll instanceof RSet ? coll.sorted() : undefined;
      if (!items) throw operandTypeError('concat', 2, ['array[string]', 'set[string]'], coll);
      return items.map((v) => (typeof v === 'string' ? v : (() => { throw operandTypeError('concat', 2, ['array[string]', 'set[string]'], coll); })())).join(sep);
    },
  },
  contains: { arity: 2, fn: (a) => str('contains', a, 0).includes(str('contains', a, 1)) },
  startswith: { arity: 2, fn: (a) => str('startswith', a, 0).startsWith(str('startswith', a, 1)) },
  endswith: { arity: 2, fn: (a) => str('endswith', a, 0).endsWith(str('endswith', a, 1)) },
  lower: { arity: 1, fn: (a) => str('lower', a, 0).toLowerCase() },
  upper: { arity: 1, fn: (a) => str('upper', a, 0).toUpperCase() },
  'strings.replace_n': { arity: 2, fn: (a, ctx) => replaceN(a[0], str('strings.replace_n', a, 1), ctx) },
  replace: {
    arity: 3,
    fn: (a, ctx) => {
      const s = str('replace', a, 0);
      const old = str('replace', a, 1);
      const by = str('replace', a, 2);
      return old === '' ? replaceEmpty(s, by, ctx) : replaceAll(s, old, by, ctx);
    },
  },
  split: { arity: 2, fn: (a) => str('split', a, 0).split(str('split', a, 1)) },
  indexof: {
    arity: 2,
    fn: (a) => {
      const s = str('indexof', a, 0);
      const i = s.indexOf(str('indexof', a, 1));
      return i < 0 ? -1 : codePoints(s.slice(0, i)).length;
    },
  },
  indexof_n: {
    arity: 2,
    fn: (a) => {
      const cps = codePoints(str('indexof_n', a, 0));
      const needle = codePoints(str('indexof_n', a, 1));
      const out: number[] = [];
      for (let i = 0; i + needle.length <= cps.length; i++) if (needle.every((c, j) => cps[i + j] === c)) out.push(i);
      return out;
    },
  },
  substring: {
    arity: 3,
    fn: (a) => {
      const cps = codePoints(str('substring', a, 0));
      const start = int('substring', a, 1);
      const len = int('substring', a, 2);
      if (start < 0) throw new BuiltinError('substring: negative offset');
      if (start >= cps.length) return '';
      return (len < 0 ? cps.slice(start) : cps.slice(start, start + len)).join('');
    },
  },
  trim: { arity: 2, fn: (a) => trimRight(trimLeft(str('trim', a, 0), trimSet(str('trim', a, 1))), trimSet(str('trim', a, 1))) },
  trim_left: { arity: 2, fn: (a) => trimLeft(str('trim_left', a, 0), trimSet(str('trim_left', a, 1))) },
  trim_right: { arity: 2, fn: (a) => trimRight(str('trim_right', a, 0), trimSet(str('trim_right', a, 1))) },
  trim_prefix: { arity: 2, fn: (a) => { const s = str('trim_prefix', a, 0); const p = str('trim_prefix', a, 1); return s.startsWith(p) ? s.slice(p.length) : s; } },
  trim_suffix: { arity: 2, fn: (a) => { const s = str('trim_suffix', a, 0); const p = str('trim_suffix', a, 1); return p && s.endsWith(p) ? s.slice(0, -p.length) : s; } },
  trim_space: { arity: 1, fn: (a) => str('trim_space', a, 0).replace(/^[\s\u0085\u00a0]+|[\s\u0085\u00a0]+$/gu, '') },
  'strings.reverse': { arity: 1, fn: (a) => codePoints(str('strings.reverse', a, 0)).reverse().join('') },
  'strings.count': { arity: 2, fn: (a) => { const s = str('strings.count', a, 0); const sub = str('strings.count', a, 1); return sub === '' ? codePoints(s).length + 1 : s.split(sub).length - 1; } },
  format_int: {
    arity: 2,
    fn: (a) => {
      const n = a[0];
      if (!isNumber(n)) throw operandTypeError('format_int', 1, ['number'], n);
      const base = int('format_int', a, 1);
      if (![2, 8, 10, 16].includes(base)) throw new EvalTypeError('format_int: operand 2 must be one of {2, 8, 10, 16}');
      return Math.trunc(toDouble(n)).toString(base);
    },
  },
  to_number: {
    arity: 1,
    fn: ([v]) => {
      if (v === null) return 0;
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (isNumber(v)) return v;
      if (typeof v !== 'string') throw operandTypeError('to_number', 1, ['boolean', 'null', 'number', 'string'], v);
      // Go's ParseFloat would accept these, but they are not numbers Rego can hold: a type error, as OPA.
      if (/^[+-]?(nan|inf|infinity)$/i.test(v.trim())) throw new EvalTypeError(`to_number: operand 1 must be a finite number but got ${JSON.stringify(v)}`);
      if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(v.trim()) || v.trim() !== v) throw new BuiltinError(`strconv.ParseFloat: parsing ${JSON.stringify(v)}: invalid syntax`);
      return numFromText(v.replace(/^\+/, ''));
    },
  },
  sprintf: {
    arity: 2,
    fn: (a, ctx) => {
      const format = str('sprintf', a, 0);
      const values = a[1];
      if (!Array.isArray(values)) throw operandTypeError('sprintf', 2, ['array[any]'], values);
      let i = 0;
      return format.replace(/%([-+# 0]*)(\d+)?(?:\.(\d+))?([vsdfqxXtTeEgGbo%])/g, (_m, flags: string, width: string | undefined, prec: string | undefined, verb: string) => {
        if (verb === '%') return '%';
        const v = values[i++];
        if (v === undefined) return `%!${verb}(MISSING)`;
        // A width or precision is an amount of padding to build: bound it before formatting.
        spend(ctx, 'sprintf', Math.max(Number(width ?? 0), Number(prec ?? 0)));
        let out: string;
        switch (verb) {
          case 's': out = typeof v === 'string' ? v : formatValue(v); break;
          case 'v': out = typeof v === 'string' ? v : formatValue(v); break;
          case 'q': out = JSON.stringify(typeof v === 'string' ? v : formatValue(v)); break;
          case 'd': out = isNumber(v) && isInteger(v) ? String(v) : `%!d(${typeof v === 'string' ? 'string=' + v : formatValue(v)})`; break;
          case 'f': case 'F': out = isNumber(v) ? toDouble(v).toFixed(prec === undefined ? 6 : Number(prec)) : `%!f(${formatValue(v)})`; break;
          case 'e': case 'E': { const e = isNumber(v) ? toDouble(v).toExponential(prec === undefined ? 6 : Number(prec)).replace(/e([+-])(\d)$/, 'e$10$2') : formatValue(v); out = verb === 'E' ? e.toUpperCase() : e; break; }
          case 'g': case 'G': out = isNumber(v) ? String(toDouble(v)) : formatValue(v); break;
          case 'x': out = isNumber(v) ? Math.trunc(toDouble(v)).toString(16) : Buffer.from(String(v)).toString('hex'); break;
          case 'X': out = isNumber(v) ? Math.trunc(toDouble(v)).toString(16).toUpperCase() : Buffer.from(String(v)).toString('hex').toUpperCase(); break;
          case 'o': out = isNumber(v) ? Math.trunc(toDouble(v)).toString(8) : formatValue(v); break;
          case 'b': out = isNumber(v) ? Math.trunc(toDouble(v)).toString(2) : formatValue(v); break;
          case 't': out = typeof v === 'boolean' ? String(v) : `%!t(${formatValue(v)})`; break;
          case 'T': out = isNumber(v) ? (isInteger(v) ? 'int' : 'float64') : typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'bool' : 'map'; break;
          default: out = formatValue(v);
        }
        if (flags.includes('+') && isNumber(v) && toDouble(v) >= 0 && 'dfeEgG'.includes(verb)) out = '+' + out;
        const w = width === undefined ? 0 : Number(width);
        if (out.length < w) out = flags.includes('-') ? out.padEnd(w) : flags.includes('0') && isNumber(v) ? out.padStart(w, '0') : out.padStart(w);
        return out;
      });
    },
  },
};

function stringList(name: string, v: Value, pos: number): string[] {
  const items = typeof v === 'string' ? [v] : Array.isArray(v) ? v : v instanceof RSet ? v.sorted() : undefined;
  if (!items) throw operandTypeError(name, pos, ['string', 'set', 'array'], v);
  const bad = items.find((x) => typeof x !== 'string');
  if (bad !== undefined) {
    const kind = Array.isArray(v) ? 'array' : 'set';
    throw new EvalTypeError(`${name}: operand ${pos} must be ${kind} of strings but got ${kind} containing ${typeName(bad)}`);
  }
  return items as string[];
}

builtins['strings.any_prefix_match'] = {
  arity: 2,
  fn: ([s, p]) => {
    const subjects = stringList('strings.any_prefix_match', s, 1);
    const prefixes = stringList('strings.any_prefix_match', p, 2);
    return subjects.some((x) => prefixes.some((q) => x.startsWith(q)));
  },
};
builtins['strings.any_suffix_match'] = {
  arity: 2,
  fn: ([s, p]) => {
    const subjects = stringList('strings.any_suffix_match', s, 1);
    const suffixes = stringList('strings.any_suffix_match', p, 2);
    return subjects.some((x) => suffixes.some((q) => x.endsWith(q)));
  },
};

/**
 * Every `old` in `s` replaced by `by` (Go's strings.ReplaceAll, as OPA's replace). Built by indexOf and
 * concatenation: no array of parts (split + join was most of a Kata policy's replace cost). Most calls in
 * Kata policies find nothing and answer `s` itself.
 */
function replaceAll(s: string, old: string, by: string, ctx: BuiltinContext | undefined): string {
  let at = s.indexOf(old);
  if (at < 0) return s;
  let count = 0;
  for (let i = at; i >= 0; i = s.indexOf(old, i + old.length)) count++;
  spend(ctx, 'replace', s.length + count * (by.length - old.length));
  let out = '';
  let from = 0;
  for (; at >= 0; at = s.indexOf(old, from)) {
    out += s.slice(from, at) + by;
    from = at + old.length;
  }
  return out + s.slice(from);
}

/** An empty `old` matches before every character and at the end (Go: "-a-b-" for "ab"). */
function replaceEmpty(s: string, by: string, ctx: BuiltinContext | undefined): string {
  const chars = [...s];
  spend(ctx, 'replace', s.length + (chars.length + 1) * by.length);
  return by + chars.map((c) => c + by).join('');
}
