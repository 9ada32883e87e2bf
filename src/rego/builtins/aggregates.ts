/** Rego builtins: aggregates over collections (count counts code points for strings). */
import { compare, isNumber, numFromBigInt, RObject, RSet, toBigInt, toDouble, type Value } from '../value.js';
import { operandTypeError, type BuiltinTable } from './registry.js';

function items(name: string, v: Value, types = ['array', 'set']): readonly Value[] {
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return v.sorted();
  throw operandTypeError(name, 1, types, v);
}

function numbers(name: string, v: Value): Value[] {
  const list = items(name, v);
  for (const x of list) if (!isNumber(x)) throw operandTypeError(name, 1, ['array[number]', 'set[number]'], v);
  return [...list];
}

export const builtins: BuiltinTable = {
  count: {
    arity: 1,
    fn: ([v]) => {
      if (typeof v === 'string') return Array.from(v).length;
      if (Array.isArray(v)) return v.length;
      if (v instanceof RSet || v instanceof RObject) return v.size;
      throw operandTypeError('count', 1, ['array', 'object', 'set', 'string'], v);
    },
  },
  sum: {
    arity: 1,
    fn: ([v]) => {
      const list = numbers('sum', v);
      if (list.every((x) => toBigInt(x as number) !== undefined)) return numFromBigInt(list.reduce<bigint>((a, x) => a + (toBigInt(x as number) as bigint), 0n));
      return list.reduce<number>((a, x) => a + toDouble(x as number), 0);
    },
  },
  product: {
    arity: 1,
    fn: ([v]) => {
      const list = numbers('product', v);
      if (list.every((x) => toBigInt(x as number) !== undefined)) return numFromBigInt(list.reduce<bigint>((a, x) => a * (toBigInt(x as number) as bigint), 1n));
      return list.reduce<number>((a, x) => a * toDouble(x as number), 1);
    },
  },
  max: { arity: 1, fn: ([v]) => { const l = items('max', v); return l.length ? l.reduce((a, b) => (compare(a, b) >= 0 ? a : b)) : undefined; } },
  min: { arity: 1, fn: ([v]) => { const l = items('min', v); return l.length ? l.reduce((a, b) => (compare(a, b) <= 0 ? a : b)) : undefined; } },
  sort: { arity: 1, fn: ([v]) => [...items('sort', v)].sort(compare) },
};
