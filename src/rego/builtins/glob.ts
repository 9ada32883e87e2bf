/**
 * Rego builtins: glob.match with gobwas/glob semantics (OPA's): `*` matches any run of characters except
 * the delimiters, `**` any run including them, `?` one non-delimiter character, `[...]`/`[!...]` classes,
 * `{a,b}` alternatives, `\\` escapes. The pattern is translated to an RE2 expression (linear time).
 */
import { RE2JS } from 're2js';
import { BuiltinError } from '../errors.js';
import { RSet, type Value } from '../value.js';
import { expectString, operandTypeError, type BuiltinTable } from './registry.js';

const COMPILED = new Map<string, RE2JS>();

function quote(c: string): string {
  return /[\\^$.|?*+()[\]{}]/.test(c) ? '\\' + c : c;
}

function translate(pattern: string, delimiters: string[]): string {
  const notDelim = delimiters.length ? `[^${delimiters.map((d) => d.replace(/[\\\]^-]/g, '\\$&')).join('')}]` : '.';
  let out = '';
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (i + 1 >= pattern.length) throw new BuiltinError('glob.match: unexpected end of input');
      out += quote(pattern[++i]);
    } else if (c === '*') {
      if (pattern[i + 1] === '*') {
        out += '.*';
        i++;
      } else out += `${notDelim}*`;
    } else if (c === '?') out += notDelim;
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new BuiltinError('glob.match: unexpected end of input');
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/\\/g, '\\\\').replace(/\]/g, '\\]')}]`;
      i = end;
    } else if (c === '{') {
      depth++;
      out += '(?:';
    } else if (c === '}' && depth > 0) {
      depth--;
      out += ')';
    } else if (c === ',' && depth > 0) out += '|';
    else out += quote(c);
  }
  if (depth !== 0) throw new BuiltinError('glob.match: unexpected end of input');
  return `^(?s:${out})$`;
}

export const builtins: BuiltinTable = {
  'glob.match': {
    arity: 3,
    fn: (args) => {
      const pattern = expectString('glob.match', args, 0);
      const d = args[1];
      let delimiters: string[];
      if (d === null) delimiters = []; // null: no delimiters at all; an empty list: the default '.' (OPA)
      else if (Array.isArray(d) || d instanceof RSet) {
        const items = Array.isArray(d) ? d : d.sorted();
        if (items.some((x: Value) => typeof x !== 'string')) throw operandTypeError('glob.match', 2, ['array[string]'], d);
        delimiters = items.length === 0 ? ['.'] : (items as string[]);
      } else throw operandTypeError('glob.match', 2, ['array[string]', 'null'], d);
      const subject = expectString('glob.match', args, 2);
      const key = pattern + '\u0000' + delimiters.join('\u0001');
      let re = COMPILED.get(key);
      if (!re) {
        try {
          re = RE2JS.compile(translate(pattern, delimiters));
        } catch (error) {
          if (error instanceof BuiltinError) throw error;
          throw new BuiltinError(`glob.match: ${(error as Error).message}`);
        }
        if (COMPILED.size > 2000) COMPILED.clear();
        COMPILED.set(key, re);
      }
      return re.matcher(subject).matches();
    },
  },
  'glob.quote_meta': {
    arity: 1,
    fn: (args) => expectString('glob.quote_meta', args, 0).replace(/[*?\\[\]{}]/g, '\\$&'),
  },
};
