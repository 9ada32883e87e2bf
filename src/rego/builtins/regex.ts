/**
 * Rego builtins: regular expressions with RE2 semantics and linear-time matching (re2js): patterns come
 * from policies and inputs, so JS RegExp (backtracking) is never used on them.
 */
import { RE2JS } from 're2js';
import { globsIntersect } from './glob-intersect.js';
import { BuiltinError } from '../errors.js';
import { isNumber, toDouble, type Value } from '../value.js';
import { checkDeadline, DEFAULT_MAX_BUILTIN_SIZE, spend } from './budget.js';
import { expectString, operandTypeError, type BuiltinContext, type BuiltinTable } from './registry.js';

/** Compiled patterns, shared across evaluations (policies reuse a few patterns on every request). */
const COMPILED = new Map<string, RE2JS>();
const MAX_COMPILED = 2000;

function compile(pattern: string, _ctx: BuiltinContext, name: string): RE2JS {
  const cached = COMPILED.get(pattern);
  if (cached) return cached;
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (error) {
    throw new BuiltinError(`${name}: error parsing regexp: ${(error as Error).message}`);
  }
  if (COMPILED.size >= MAX_COMPILED) COMPILED.clear();
  COMPILED.set(pattern, re);
  return re;
}

/**
 * re2js decodes its tables and V8 compiles its parser and compiler lazily, on the first pattern: about
 * half of a Kata policy's first decision. One small pattern with the common features (anchors, classes,
 * groups, alternation, counted repetition), compiled and run when this module loads, pays that at
 * start-up instead of on the first request.
 */
function warmUp(): void {
  const re = RE2JS.compile('^[A-Za-z0-9_\\.\\-]+_(?:ab|[0-9]{1,5})\\b\\d*$');
  re.matcher('A.b-1_12 3').find();
  re.matcher('x_ab').find();
}
warmUp();

function count(name: string, args: readonly Value[], i: number): number {
  const v = args[i];
  if (!isNumber(v)) throw operandTypeError(name, i + 1, ['number'], v);
  return toDouble(v);
}

/** Characters RE2 reads as themselves outside a class (ASCII only: the prefilter stays simple and exact). */
function isLiteralChar(c: string): boolean {
  return c >= ' ' && c <= '~' && !'\\.+*?()[]{}|^$'.includes(c);
}

/** Whether `\c` stands for the character c itself: escaped ASCII punctuation (letters and digits are classes and escapes). */
function isEscapedLiteral(c: string | undefined): boolean {
  return c !== undefined && c >= '!' && c <= '~' && !/[A-Za-z0-9]/.test(c);
}

/**
 * The literal text every match of an anchored pattern (`^abc...`) begins with, or '' when there is none
 * or the pattern is beyond this simple reading. A text that does not start with it cannot match, which
 * saves running the matcher: Kata policies try many `^NAME=...` patterns against every environment
 * variable, and most fail on the name. Exactness (kept by a property test against re2js) needs: no
 * alternation at the top level (`^ab|c` matches "c"), no `\Q...\E` or POSIX class (which would hide
 * brackets from the scan), and no quantifier on the last literal (`^ab*` starts with "a" only).
 */
export function literalPrefix(pattern: string): string {
  if (!pattern.startsWith('^') || pattern.includes('\\Q') || pattern.includes('[:')) return '';
  if (hasTopLevelAlternation(pattern)) return '';
  let prefix = '';
  let i = 1;
  for (; i < pattern.length; i++) {
    const c = pattern[i];
    if (isLiteralChar(c)) prefix += c;
    else if (c === '\\' && isEscapedLiteral(pattern[i + 1])) prefix += pattern[++i];
    else break;
  }
  const next = pattern[i];
  // A flag group (`(?i)`) stands for nothing, so a quantifier after it repeats the last literal (`^a(?i)*`).
  if (next === '*' || next === '?' || next === '+' || next === '{' || (next === '(' && pattern[i + 1] === '?')) prefix = prefix.slice(0, -1);
  return prefix;
}

/** Whether `|` occurs outside every group and class (escapes skipped); true when the scan is unsure. */
function hasTopLevelAlternation(pattern: string): boolean {
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth <= 0) return true;
    else if (c === '[') {
      i = classEnd(pattern, i);
      if (i < 0) return true;
    }
  }
  return depth !== 0;
}

/**
 * Literal runs every match of a pattern contains (`_PORT_` in `^[A-Z0-9_]+_PORT_[0-9]{1,5}$`), longest
 * first, or none when the pattern is beyond this simple reading. A text that lacks one cannot match.
 * Kata policies try every allow_env_regex pattern on every environment variable, and a prefix rarely
 * decides it (most start with a class). Read conservatively: any top-level alternation, flag or named
 * group, `\Q`, POSIX class, `\p`, `\x` or digit escape, or a `{` that is not a repetition gives none; a
 * group or class ends a run; a literal under `*`, `?` or `{0,n}` leaves it. Kept exact by a property test
 * against re2js.
 */
export function requiredLiterals(pattern: string): string[] {
  if (pattern.includes('\\Q') || pattern.includes('[:') || hasTopLevelAlternation(pattern)) return [];
  const runs: string[] = [];
  let run = '';
  let lastWasLiteral = false;
  const endRun = () => {
    if (run.length >= 2) runs.push(run);
    run = '';
    lastWasLiteral = false;
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (isLiteralChar(c)) {
      run += c;
      lastWasLiteral = true;
    } else if (c === '\\') {
      const n = pattern[i + 1];
      if (n === undefined || 'xpP0123456789'.includes(n)) return [];
      i++;
      if (isEscapedLiteral(n)) {
        run += n;
        lastWasLiteral = true;
      } else endRun();
    } else if (c === '*' || c === '?' || c === '+' || c === '{') {
      let min = c === '+' ? 1 : 0;
      if (c === '{') {
        const rep = /^\{(\d+)(?:,\d*)?\}/.exec(pattern.slice(i));
        if (!rep) return [];
        min = Number(rep[1]);
        i += rep[0].length - 1;
      }
      if (pattern[i + 1] === '?') i++;
      if (lastWasLiteral && min === 0) run = run.slice(0, -1);
      endRun();
    } else if (c === '(') {
      if (pattern[i + 1] === '?' && pattern[i + 2] !== ':') return [];
      const close = groupEnd(pattern, i);
      if (close < 0) return [];
      i = close;
      endRun();
    } else if (c === '[') {
      const close = classEnd(pattern, i);
      if (close < 0) return [];
      i = close;
      endRun();
    } else if (c === ')' || c === ']') return [];
    else endRun();
  }
  endRun();
  return runs.sort((a, b) => b.length - a.length);
}

/** Index of the `]` closing the class opened at `start` (a `]` right after `[` or `[^` is a member), or -1. */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
  return i < pattern.length ? i : -1;
}

/** Index of the `)` closing the group opened at `start` (classes and escapes skipped), or -1. */
function groupEnd(pattern: string, start: number): number {
  let depth = 0;
  for (let i = start; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '[') {
      i = classEnd(pattern, i);
      if (i < 0) return -1;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/** What regex.match checks before running the matcher: the anchored prefix and the required literals. */
interface Prefilter {
  prefix: string;
  required: string[];
}

const PREFILTERS = new Map<string, Prefilter>();

const match = (name: string) => ({
  arity: 2,
  fn: (args: readonly Value[], ctx: BuiltinContext) => {
    const pattern = expectString(name, args, 0);
    const text = expectString(name, args, 1);
    // Compiled first, so a bad pattern is an error whatever the text.
    const re = compile(pattern, ctx, name);
    let filter = PREFILTERS.get(pattern);
    if (filter === undefined) {
      filter = { prefix: literalPrefix(pattern), required: requiredLiterals(pattern) };
      if (PREFILTERS.size >= MAX_COMPILED) PREFILTERS.clear();
      PREFILTERS.set(pattern, filter);
    }
    if (filter.prefix !== '' && !text.startsWith(filter.prefix)) return false;
    for (const literal of filter.required) if (!text.includes(literal)) return false;
    return re.matcher(text).find();
  },
});

/** regex.template_match: literal text with regular expressions between the delimiters, matched whole. */
function templateRegex(template: string, open: string, close: string): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const start = template.indexOf(open, i);
    if (start < 0) {
      out += RE2JS.quote(template.slice(i));
      break;
    }
    const end = template.indexOf(close, start + open.length);
    if (end < 0) throw new BuiltinError(`regex.template_match: unbalanced braces in ${JSON.stringify(template)}`);
    out += RE2JS.quote(template.slice(i, start)) + '(?:' + template.slice(start + open.length, end) + ')';
    i = end + close.length;
  }
  return '^' + out + '$';
}

export const builtins: BuiltinTable = {
  'regex.template_match': {
    arity: 4,
    fn: (args, ctx) => {
      const template = expectString('regex.template_match', args, 0);
      const value = expectString('regex.template_match', args, 1);
      const open = expectString('regex.template_match', args, 2);
      const close = expectString('regex.template_match', args, 3);
      return compile(templateRegex(template, open, close), ctx, 'regex.template_match').matcher(value).find();
    },
  },
  'regex.match': match('regex.match'),
  re_match: match('re_match'),
  'regex.is_valid': {
    arity: 1,
    fn: ([p]) => {
      if (typeof p !== 'string') return false;
      try {
        RE2JS.compile(p);
        return true;
      } catch {
        return false;
      }
    },
  },
  'regex.split': {
    arity: 2,
    fn: (args, ctx) => compile(expectString('regex.split', args, 0), ctx, 'regex.split').split(expectString('regex.split', args, 1), -1),
  },
  'regex.replace': {
    arity: 3,
    fn: (args, ctx) => {
      const re = compile(expectString('regex.replace', args, 1), ctx, 'regex.replace');
      const subject = expectString('regex.replace', args, 0);
      const replacement = expectString('regex.replace', args, 2);
      // Each match can add the whole replacement: when the worst case is over budget, count the matches.
      if ((subject.length + 1) * replacement.length + subject.length > (ctx.maxBuiltinSize ?? DEFAULT_MAX_BUILTIN_SIZE)) {
        const m = re.matcher(subject);
        let matches = 0;
        while (m.find()) if ((++matches & 0xfff) === 0) checkDeadline(ctx, 'regex.replace');
        spend(ctx, 'regex.replace', subject.length + matches * replacement.length);
      }
      return re.matcher(subject).replaceAll(replacement.replace(/\$\{?(\d+)\}?/g, '$$$1'));
    },
  },
  'regex.find_n': {
    arity: 3,
    fn: (args, ctx) => {
      const re = compile(expectString('regex.find_n', args, 0), ctx, 'regex.find_n');
      const n = count('regex.find_n', args, 2);
      const m = re.matcher(expectString('regex.find_n', args, 1));
      const out: string[] = [];
      while ((n < 0 || out.length < n) && m.find()) {
        if ((out.push(m.group() ?? '') & 0xfff) === 0) checkDeadline(ctx, 'regex.find_n');
      }
      return out;
    },
  },
  'regex.find_all_string_submatch_n': {
    arity: 3,
    fn: (args, ctx) => {
      const re = compile(expectString('regex.find_all_string_submatch_n', args, 0), ctx, 'regex.find_all_string_submatch_n');
      const n = count('regex.find_all_string_submatch_n', args, 2);
      const m = re.matcher(expectString('regex.find_all_string_submatch_n', args, 1));
      const out: Value[] = [];
      while ((n < 0 || out.length < n) && m.find()) {
        const groups: string[] = [];
        for (let g = 0; g <= m.groupCount(); g++) groups.push(m.group(g) ?? '');
        out.push(groups);
      }
      return out;
    },
  },
  'regex.globs_match': {
    arity: 2,
    fn: (args) => globsIntersect(expectString('regex.globs_match', args, 0), expectString('regex.globs_match', args, 1)),
  },
};
