/**
 * Documents built from rule paths: the nested objects ref-head rules and packages make, merged as OPA
 * merges them (path-built objects may be extended, a rule's own value may not), and `with` overrides.
 */
import type { Loc } from './ast.js';
import { RegoError } from './errors.js';
import { equals, RObject, RSet, type Value } from './value.js';

export function conflict(message: string, loc?: Loc): RegoError {
  return new RegoError('eval_conflict_error', message, loc);
}

export function setAt(base: Value | undefined, path: readonly string[], value: Value): Value {
  if (path.length === 0) return value;
  const obj = base instanceof RObject ? new RObject(base.entries()) : new RObject();
  obj.set(path[0], setAt(obj.get(path[0]), path.slice(1), value));
  return obj;
}

/**
 * Objects built from rule paths (ref heads, packages) rather than produced as a rule's value: only these
 * may be extended by other rules; extending a rule's own value is a conflict, as in OPA.
 */
const structural = new WeakSet<RObject>();

export function structuralObject(): RObject {
  const o = new RObject();
  structural.add(o);
  return o;
}

/** Sets built by multi-value ref-head rules; other sets (rule values, literals) are shared and never mutated. */
const owned = new WeakSet<RSet>();

export function ownedSet(from: RSet | undefined): RSet {
  if (from && owned.has(from)) return from;
  const s = new RSet(from ? from.values() : []);
  owned.add(s);
  return s;
}

/** Merges `value` at `key` of a path-built object, reporting conflicts as OPA does. */
export function mergeAt(obj: RObject, key: Value, value: Value, loc: Loc | undefined): void {
  const prev = obj.get(key);
  if (prev === undefined) obj.set(key, value);
  else if (prev instanceof RObject && value instanceof RObject && structural.has(prev) && structural.has(value)) {
    for (const [k, v] of value.entries()) mergeAt(prev, k, v, loc);
  } else if (prev instanceof RSet && value instanceof RSet) {
    const union = ownedSet(prev);
    for (const v of value.values()) union.add(v);
    obj.set(key, union);
  } else if (!equals(prev, value)) throw conflict('object keys must be unique', loc);
}

/** Puts a ref-head rule's result into its nested object. */
export function insertAt(out: RObject, keys: readonly Value[], leaf: Value, leafSet: boolean, loc: Loc | undefined): void {
  let obj = out;
  for (let i = 0; i < keys.length - 1; i++) {
    const prev = obj.get(keys[i]);
    if (prev === undefined) {
      const next = structuralObject();
      obj.set(keys[i], next);
      obj = next;
    } else if (prev instanceof RObject && structural.has(prev)) obj = prev;
    else throw conflict('object keys must be unique', loc);
  }
  const last = keys[keys.length - 1];
  if (leafSet) {
    const prev = obj.get(last);
    if (prev === undefined) obj.set(last, ownedSet(undefined).add(leaf));
    else if (prev instanceof RSet) obj.set(last, ownedSet(prev).add(leaf));
    else throw conflict('object keys must be unique', loc);
  } else mergeAt(obj, last, leaf, loc);
}
