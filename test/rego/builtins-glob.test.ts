/** regex.globs_match against brute force (glob.match's delimiters are in cases/builtins/core.yaml). */
import fc from 'fast-check';
import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { globsIntersect } from '../../src/rego/builtins/glob-intersect.js';

const ALPHABET = ['a', 'b', 'c'];

/** Every string over the alphabet up to `max` characters. */
function* strings(max: number): Generator<string> {
  let level = [''];
  yield '';
  for (let n = 1; n <= max; n++) {
    level = level.flatMap((s) => ALPHABET.map((c) => s + c));
    yield* level;
  }
}

const atom = fc.constantFrom('a', 'b', '.', '[ab]', '[^a]', '[b-c]');
const pattern = fc.array(fc.tuple(atom, fc.constantFrom('', '*', '+', '?')), { minLength: 1, maxLength: 2 }).map((parts) => parts.map(([a, r]) => a + r).join(''));

describe('regex.globs_match', () => {
  it('agrees with brute force: a common string exists exactly when the search finds one', () => {
    // Two patterns of at most two tokens have a product of at most 9 states, so a shortest common
    // string, if any, has at most 8 characters: enumerating them all decides the question.
    const all = [...strings(8)];
    fc.assert(
      fc.property(pattern, pattern, (p, q) => {
        const rp = RE2JS.compile(`^(?:${p})$`);
        const rq = RE2JS.compile(`^(?:${q})$`);
        const brute = all.some((s) => rp.matcher(s).find() && rq.matcher(s).find());
        expect(globsIntersect(p, q)).toBe(brute);
      }),
      { numRuns: 150 },
    );
  });

  it('refuses malformed patterns with the position', () => {
    expect(() => globsIntersect('ab[c', 'a')).toThrow(/pos:3, set-open/);
    expect(() => globsIntersect('*a', 'a')).toThrow(/pos:1, repetition/);
  });
});
