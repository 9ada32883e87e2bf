/**
 * regex.globs_match: do two patterns of the small regex dialect OPA takes from glob-intersection
 * match at least one common string? The dialect: literal characters, `.` (any character),
 * `[...]`/`[^...]` classes with ranges, `\` escapes, each optionally followed by `*`, `+` or `?`.
 * Each pattern becomes a chain of tokens; the answer is whether the product of the two chains can
 * reach both ends (a breadth-first search over pairs of positions), which takes time proportional to
 * the product of the pattern lengths: no backtracking.
 */
import { BuiltinError } from '../errors.js';

type Range = [number, number];
const MAX_CODE_POINT = 0x10ffff;

interface Token {
  /** The characters this token matches, as sorted disjoint ranges. */
  set: Range[];
  repeat: '' | '*' | '+' | '?';
}

function invalid(input: string, pos: number, what: string): never {
  throw new BuiltinError(`input:${input}, pos:${pos}, ${what}: the input provided is invalid`);
}

function normalise(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

function complement(ranges: Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of normalise(ranges)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

function overlaps(a: Range[], b: Range[]): boolean {
  for (const [alo, ahi] of a) for (const [blo, bhi] of b) if (alo <= bhi && blo <= ahi) return true;
  return false;
}

export function parseGlobPattern(input: string): Token[] {
  const chars = Array.from(input);
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    let set: Range[];
    if (c === '*' || c === '+' || c === '?') {
      const prev = tokens[tokens.length - 1];
      if (!prev || prev.repeat !== '') invalid(input, i + 1, `repetition '${c}' with nothing to repeat`);
      prev.repeat = c;
      continue;
    }
    if (c === ']') invalid(input, i + 1, "set-close ']' with no preceding '['");
    if (c === '.') set = [[0, MAX_CODE_POINT]];
    else if (c === '\\') {
      if (i + 1 >= chars.length) invalid(input, i + 1, "escape '\\' at the end of the input");
      const cp = chars[++i].codePointAt(0) as number;
      set = [[cp, cp]];
    } else if (c === '[') {
      const start = i;
      const negated = chars[i + 1] === '^';
      if (negated) i++;
      const ranges: Range[] = [];
      for (i++; i < chars.length && chars[i] !== ']'; i++) {
        const lo = chars[i] === '\\' && i + 1 < chars.length ? chars[++i] : chars[i];
        let hi = lo;
        if (chars[i + 1] === '-' && i + 2 < chars.length && chars[i + 2] !== ']') {
          hi = chars[i + 2] === '\\' && i + 3 < chars.length ? chars[(i += 3)] : chars[(i += 2)];
        }
        const [a, b] = [lo.codePointAt(0) as number, hi.codePointAt(0) as number];
        if (a > b) invalid(input, i + 1, `range '${lo}-${hi}' out of order`);
        ranges.push([a, b]);
      }
      if (i >= chars.length) invalid(input, start + 1, "set-open '[' with no closing ']'");
      set = negated ? complement(ranges) : normalise(ranges);
    } else {
      const cp = c.codePointAt(0) as number;
      set = [[cp, cp]];
    }
    tokens.push({ set, repeat: '' });
  }
  return tokens;
}

/** Positions reachable from `i` without consuming a character (skipping optional tokens). */
function skippable(tokens: Token[], i: number): number[] {
  const out = [i];
  while (i < tokens.length && (tokens[i].repeat === '*' || tokens[i].repeat === '?')) out.push(++i);
  return out;
}

/** After consuming one character with token i: where the chain can be. */
function afterConsume(tokens: Token[], i: number): number[] {
  const r = tokens[i].repeat;
  return r === '*' || r === '+' ? [i, i + 1] : [i + 1];
}

export function globsIntersect(a: string, b: string): boolean {
  const ta = parseGlobPattern(a);
  const tb = parseGlobPattern(b);
  const seen = new Set<number>();
  const width = tb.length + 1;
  const queue: [number, number][] = [];
  const push = (i: number, j: number) => {
    for (const x of skippable(ta, i)) {
      for (const y of skippable(tb, j)) {
        if (!seen.has(x * width + y)) {
          seen.add(x * width + y);
          queue.push([x, y]);
        }
      }
    }
  };
  push(0, 0);
  while (queue.length > 0) {
    const [i, j] = queue.shift() as [number, number];
    if (i === ta.length && j === tb.length) return true;
    if (i === ta.length || j === tb.length || !overlaps(ta[i].set, tb[j].set)) continue;
    for (const x of afterConsume(ta, i)) for (const y of afterConsume(tb, j)) push(x, y);
  }
  return false;
}
