/** Rego builtins: operators (comparison, arithmetic, set algebra) and membership. */
import { BuiltinError } from '../errors.js';
import { compare, equals, isNumber, numFromBigInt, RObject, RSet, toBigInt, toDouble, typeName, type RNumber, type Value } from '../value.js';
import { operandTypeError, type BuiltinTable } from './registry.js';

function num(name: string, args: readonly Value[], i: number): RNumber {
  const v = args[i];
  if (!isNumber(v)) throw operandTypeError(name, i + 1, ['number'], v);
  return v;
}

function arith(name: string, op: (a: bigint, b: bigint) => bigint, fop: (a: number, b: number) => number) {
  return (args: readonly Value[]): Value => {
    const a = num(name, args, 0);
    const b = num(name, args, 1);
    if (typeof a === 'number' && typeof b === 'number') {
      const r = fop(a, b);
      if (Number.isSafeInteger(r) || !Number.isInteger(r)) return r;
    }
    const ai = toBigInt(a);
    const bi = toBigInt(b);
    if (ai !== undefined && bi !== undefined) return numFromBigInt(op(ai, bi));
    return fop(toDouble(a), toDouble(b));
  };
}

function setOp(name: string, numberOp: ((args: readonly Value[]) => Value) | undefined, fn: (a: RSet, b: RSet) => RSet) {
  return (args: readonly Value[]): Value => {
    const [a, b] = args;
    if (a instanceof RSet && b instanceof RSet) return fn(a, b);
    if (numberOp && isNumber(a) && isNumber(b)) return numberOp(args);
    const expected = numberOp ? ['number', 'set'] : ['set'];
    if (!(a instanceof RSet) && !(numberOp && isNumber(a))) throw operandTypeError(name, 1, expected, a);
    // OPA names the type operand 1 fixed: a number wants a number, a set wants a set.
    throw operandTypeError(name, 2, [a instanceof RSet ? 'set' : 'number'], b);
  };
}

const minusNumbers = arith('minus', (a, b) => a - b, (a, b) => a - b);

export const builtins: BuiltinTable = {
  equal: { arity: 2, fn: ([a, b]) => equals(a, b) },
  eq: { arity: 2, fn: ([a, b]) => equals(a, b) },
  neq: { arity: 2, fn: ([a, b]) => !equals(a, b) },
  lt: { arity: 2, fn: ([a, b]) => compare(a, b) < 0 },
  lte: { arity: 2, fn: ([a, b]) => compare(a, b) <= 0 },
  gt: { arity: 2, fn: ([a, b]) => compare(a, b) > 0 },
  gte: { arity: 2, fn: ([a, b]) => compare(a, b) >= 0 },
  plus: { arity: 2, fn: arith('plus', (a, b) => a + b, (a, b) => a + b) },
  minus: { arity: 2, fn: setOp('minus', minusNumbers, (a, b) => new RSet([...a].filter((x) => !b.has(x)))) },
  mul: { arity: 2, fn: arith('mul', (a, b) => a * b, (a, b) => a * b) },
  div: {
    arity: 2,
    fn: (args) => {
      const a = num('div', args, 0);
      const b = num('div', args, 1);
      if (toDouble(b) === 0) throw new BuiltinError('div: divide by zero');
      const ai = toBigInt(a);
      const bi = toBigInt(b);
      if (ai !== undefined && bi !== undefined && ai % bi === 0n) return numFromBigInt(ai / bi);
      return toDouble(a) / toDouble(b);
    },
  },
  rem: {
    arity: 2,
    fn: (args) => {
      const a = num('rem', args, 0);
      const b = num('rem', args, 1);
      const ai = toBigInt(a);
      const bi = toBigInt(b);
      if (ai === undefined || bi === undefined) throw new BuiltinError('rem: modulo on floating-point number');
      if (bi === 0n) throw new BuiltinError('rem: modulo by zero');
      return numFromBigInt(ai % bi);
    },
  },
  or: { arity: 2, fn: setOp('or', undefined, (a, b) => new RSet([...a, ...b])) },
  and: { arity: 2, fn: setOp('and', undefined, (a, b) => new RSet([...a].filter((x) => b.has(x)))) },
  'internal.member_2': {
    arity: 2,
    fn: ([x, coll]) => {
      if (Array.isArray(coll)) return coll.some((v) => equals(v, x));
      if (coll instanceof RSet) return coll.has(x);
      if (coll instanceof RObject) return coll.values().some((v) => equals(v, x));
      return false;
    },
  },
  'internal.member_3': {
    arity: 3,
    fn: ([k, x, coll]) => {
      if (Array.isArray(coll)) return typeof k === 'number' && Number.isInteger(k) && k >= 0 && k < coll.length && equals(coll[k], x);
      if (coll instanceof RObject) {
        const v = coll.get(k);
        return v !== undefined && equals(v, x);
      }
      return false;
    },
  },
  trace: { arity: 1, fn: ([s]) => (typeof s === 'string' ? true : (() => { throw operandTypeError('trace', 1, ['string'], s); })()) },
  type_name: { arity: 1, fn: ([v]) => typeName(v) },
};
