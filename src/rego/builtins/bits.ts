/** Rego builtins: bitwise operations on (big) integers. */
import { EvalTypeError } from '../errors.js';
import { isNumber, numFromBigInt, toBigInt, type Value } from '../value.js';
import { MAX_NUMBER_DIGITS, spend } from './budget.js';
import { operandTypeError, type BuiltinTable } from './registry.js';

function int(name: string, args: readonly Value[], i: number): bigint {
  const v = args[i];
  if (!isNumber(v)) throw operandTypeError(name, i + 1, ['number'], v);
  const n = toBigInt(v);
  if (n === undefined) throw new EvalTypeError(`${name}: operand ${i + 1} must be integer number but got floating-point number`);
  return n;
}

/** Shift amounts must be unsigned, as Go's shift operators require. */
function shift(name: string, args: readonly Value[]): bigint {
  const n = int(name, args, 1);
  if (n < 0n) throw new EvalTypeError(`${name}: operand 2 must be an unsigned integer number but got a negative integer`);
  return n;
}
const op2 = (name: string, f: (a: bigint, b: bigint) => bigint) => ({ arity: 2, fn: (a: readonly Value[]) => numFromBigInt(f(int(name, a, 0), int(name, a, 1))) });

export const builtins: BuiltinTable = {
  'bits.and': op2('bits.and', (a, b) => a & b),
  'bits.or': op2('bits.or', (a, b) => a | b),
  'bits.xor': op2('bits.xor', (a, b) => a ^ b),
  'bits.lsh': {
    arity: 2,
    fn: (a, ctx) => {
      const value = int('bits.lsh', a, 0);
      const by = shift('bits.lsh', a);
      // Bound the result's bit length (about 3.3 bits a digit) before building it.
      spend(ctx, 'bits.lsh', BigInt(value.toString(2).length) + by, MAX_NUMBER_DIGITS * 4);
      return numFromBigInt(value << by);
    },
  },
  'bits.rsh': { arity: 2, fn: (a) => numFromBigInt(int('bits.rsh', a, 0) >> shift('bits.rsh', a)) },
  'bits.negate': { arity: 1, fn: (a) => numFromBigInt(~int('bits.negate', a, 0)) },
};
