/** Rego builtins: type checks. */
import { isNumber, RObject, RSet, type Value } from '../value.js';
import type { BuiltinTable } from './registry.js';

const check = (pred: (v: Value) => boolean) => ({ arity: 1, fn: ([v]: readonly Value[]) => pred(v) });

export const builtins: BuiltinTable = {
  is_number: check(isNumber),
  is_string: check((v) => typeof v === 'string'),
  is_boolean: check((v) => typeof v === 'boolean'),
  is_array: check((v) => Array.isArray(v)),
  is_set: check((v) => v instanceof RSet),
  is_object: check((v) => v instanceof RObject),
  is_null: check((v) => v === null),
};
