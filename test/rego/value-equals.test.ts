/** equals() is structural (sizes, then members) for speed; it must agree with OPA's ordering, compare() === 0. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BigNum, compare, equals, fromJson, numFromText, RObject, RSet, type Value } from '../../src/rego/value.js';

/** Values from a small alphabet, so equal pairs and near misses (same size, one member apart) are common. */
const value: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<Value>(null, true, false, 0, 1, 2, 1.5, '', 'a', 'b', numFromText('1'), new BigNum('1', 1n), numFromText('1e400'), numFromText('100000000000000000000')),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.array(fc.tuple(fc.oneof(fc.constantFrom<Value>('a', 'b', 1, null), tie('v')), tie('v')), { maxLength: 3 }).map((entries) => new RObject(entries)),
    fc.array(tie('v'), { maxLength: 3 }).map((items) => new RSet(items)),
  ),
})).v;

describe('equals', () => {
  it('agrees with compare() === 0 on arbitrary values', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(equals(a, b)).toBe(compare(a, b) === 0);
        expect(equals(b, a)).toBe(equals(a, b));
      }),
      { numRuns: 20000 },
    );
  });

  it('is true for a value and its copy built anew', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (j) => {
        expect(equals(fromJson(j), fromJson(JSON.parse(JSON.stringify(j))))).toBe(true);
      }),
    );
  });

  it('a number equals its big-number spelling', () => {
    expect(equals(1, new BigNum('1', 1n))).toBe(true);
    expect(equals(new BigNum('1', 1n), 1)).toBe(true);
    expect(equals([1, 'a'], [new BigNum('1', 1n), 'a'])).toBe(true);
    expect(equals(2, new BigNum('1', 1n))).toBe(false);
  });
});
