/** Rego builtins: objects. */
import { RObject, RSet, type Value } from '../value.js';
import { operandTypeError, type BuiltinTable } from './registry.js';

function obj(name: string, v: Value, i: number): RObject {
  if (!(v instanceof RObject)) throw operandTypeError(name, i + 1, ['object'], v);
  return v;
}

function union(a: RObject, b: RObject): RObject {
  const out = new RObject(a.entries());
  for (const [k, v] of b.entries()) {
    const prev = out.get(k);
    out.set(k, prev instanceof RObject && v instanceof RObject ? union(prev, v) : v);
  }
  return out;
}

function keySet(name: string, v: Value): RSet {
  if (v instanceof RSet) return v;
  if (Array.isArray(v)) return new RSet(v);
  if (v instanceof RObject) return new RSet(v.keys());
  throw operandTypeError(name, 2, ['array', 'object', 'set'], v);
}

export const builtins: BuiltinTable = {
  'object.keys': { arity: 1, fn: ([o]) => new RSet(obj('object.keys', o, 0).keys()) },
  'object.get': {
    arity: 3,
    fn: ([o, key, dflt]) => {
      obj('object.get', o, 0);
      if (Array.isArray(key)) {
        let cur: Value | undefined = o;
        for (const k of key) {
          if (cur instanceof RObject) cur = cur.get(k);
          else if (Array.isArray(cur) && typeof k === 'number') cur = cur[k];
          else if (cur instanceof RSet) cur = cur.has(k) ? k : undefined;
          else cur = undefined;
          if (cur === undefined) return dflt;
        }
        return cur;
      }
      return (o as RObject).get(key) ?? dflt;
    },
  },
  'object.union': { arity: 2, fn: ([a, b]) => union(obj('object.union', a, 0), obj('object.union', b, 1)) },
  'object.union_n': {
    arity: 1,
    fn: ([list]) => {
      if (!Array.isArray(list)) throw operandTypeError('object.union_n', 1, ['array'], list);
      return list.reduce<RObject>((acc, o, i) => union(acc, obj('object.union_n', o, i)), new RObject());
    },
  },
  'object.remove': {
    arity: 2,
    fn: ([o, keys]) => {
      const drop = keySet('object.remove', keys);
      return new RObject([...obj('object.remove', o, 0).entries()].filter(([k]) => !drop.has(k)));
    },
  },
  'object.filter': {
    arity: 2,
    fn: ([o, keys]) => {
      const keep = keySet('object.filter', keys);
      return new RObject([...obj('object.filter', o, 0).entries()].filter(([k]) => keep.has(k)));
    },
  },
};
