/** Rego builtins: bitwise operations on (big) integers. */
import { isNumber, numFromBigInt, toBigInt, type Value } from '../value.js';
import { operandTypeError, type BuiltinTable } from './registry.js';

function int(name: string, args: readonly Value[], i: number): bigint {
  const v = args[i];
  const n = isNumber(v) ? toBigInt(v) : undefined;
  if (n === undefined) throw operandTypeError(name, i + 1, ['number'], v);
  return n;
}
const op2 = (name: string, f: (a: bigint, b: bigint) => bigint) => ({ arity: 2, fn: (a: readonly Value[]) => numFromBigInt(f(int(name, a, 0), int(name, a, 1))) });

export const builtins: BuiltinTable = {
  'bits.and': op2('bits.and', (a, b) => a & b),
  'bits.or': op2('bits.or', (a, b) => a | b),
  'bits.xor': op2('bits.xor', (a, b) => a ^ b),
  'bits.lsh': op2('bits.lsh', (a, b) => a << b),
  'bits.rsh': op2('bits.rsh', (a, b) => a >> b),
  'bits.negate': { arity: 1, fn: (a) => numFromBigInt(~int('bits.negate', a, 0)) },
};
