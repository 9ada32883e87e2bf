/** Rego builtins: arrays. */
import { isNumber, toDouble, type Value } from '../value.js';
import { operandTypeError, type BuiltinTable } from './registry.js';

function arr(name: string, v: Value, i: number): readonly Value[] {
  if (!Array.isArray(v)) throw operandTypeError(name, i + 1, ['array'], v);
  return v;
}

/** One level: nested arrays inside the inner arrays stay arrays (OPA). */
function flatten(list: readonly Value[]): Value[] {
  return list.flatMap((v) => (Array.isArray(v) ? [...v] : [v]));
}

export const builtins: BuiltinTable = {
  'array.flatten': { arity: 1, fn: ([a]) => flatten(arr('array.flatten', a, 0)) },
  'array.concat': { arity: 2, fn: ([a, b]) => [...arr('array.concat', a, 0), ...arr('array.concat', b, 1)] },
  'array.reverse': { arity: 1, fn: ([a]) => [...arr('array.reverse', a, 0)].reverse() },
  'array.slice': {
    arity: 3,
    fn: ([a, s, e]) => {
      const list = arr('array.slice', a, 0);
      if (!isNumber(s)) throw operandTypeError('array.slice', 2, ['number'], s);
      if (!isNumber(e)) throw operandTypeError('array.slice', 3, ['number'], e);
      const start = Math.max(0, toDouble(s));
      const end = Math.min(list.length, toDouble(e));
      return start >= end ? [] : list.slice(start, end);
    },
  },
};
