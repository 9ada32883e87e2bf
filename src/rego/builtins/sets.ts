/** Rego builtins: sets. */
import { RSet, type Value } from '../value.js';
import { operandTypeError, type BuiltinTable } from './registry.js';

function setOfSets(name: string, v: Value): RSet[] {
  if (!(v instanceof RSet)) throw operandTypeError(name, 1, ['set[set[any]]'], v);
  return [...v].map((s) => (s instanceof RSet ? s : (() => { throw operandTypeError(name, 1, ['set[set[any]]'], v); })()));
}

export const builtins: BuiltinTable = {
  union: { arity: 1, fn: ([v]) => new RSet(setOfSets('union', v).flatMap((s) => [...s])) },
  intersection: {
    arity: 1,
    fn: ([v]) => {
      const sets = setOfSets('intersection', v);
      if (sets.length === 0) return new RSet();
      return new RSet([...sets[0]].filter((x) => sets.every((s) => s.has(x))));
    },
  },
};
