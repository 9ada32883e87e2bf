/** Rego builtins: objects. */
import { BuiltinError } from '../errors.js';
import { keyOf, RObject, RSet, type Value } from '../value.js';
import { safePath } from '../safe-path.js';
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
  throw operandTypeError(name, 2, ['object', 'set', 'array'], v);
}

export const builtins: BuiltinTable = {
  'object.keys': { arity: 1, fn: ([o]) => new RSet(obj('object.keys', o, 0).keys()) },
  'object.get': {
    arity: 3,
    fn: ([o, key, dflt]) => {
      obj('object.get', o, 0);
      if (Array.isArray(key)) {
        let cur: Value | undefined = o;
        for (const k of safePath('object.get', key)) {
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

/** object.subset: is `sub` contained in `sup` (objects recursively, arrays as contiguous runs, sets as subsets)? */
function isSubset(sup: Value, sub: Value): boolean {
  if (sup instanceof RObject && sub instanceof RObject) {
    return [...sub.entries()].every(([k, v]) => {
      const x = sup.get(k);
      if (x === undefined) return false;
      // Nested values of the same collection kind compare as subsets too (OPA); anything else must be equal.
      const sameKind = (x instanceof RObject && v instanceof RObject) || (x instanceof RSet && v instanceof RSet) || (Array.isArray(x) && Array.isArray(v));
      return sameKind ? isSubset(x, v) : keyOf(x) === keyOf(v);
    });
  }
  if (sup instanceof RSet && sub instanceof RSet) return [...sub].every((v) => sup.has(v));
  if (Array.isArray(sup) && sub instanceof RSet) return [...sub].every((v) => sup.some((x) => keyOf(x) === keyOf(v)));
  if (Array.isArray(sup) && Array.isArray(sub)) {
    if (sub.length === 0) return true;
    for (let i = 0; i + sub.length <= sup.length; i++) if (sub.every((v, j) => keyOf(v) === keyOf(sup[i + j]))) return true;
    return false;
  }
  return false;
}

builtins['object.subset'] = {
  arity: 2,
  fn: ([sup, sub]) => {
    const ok = (v: Value) => v instanceof RObject || v instanceof RSet || Array.isArray(v);
    if (!ok(sup)) throw operandTypeError('object.subset', 1, ['array', 'object', 'set'], sup);
    if (!ok(sub)) throw operandTypeError('object.subset', 2, ['array', 'object', 'set'], sub);
    if (sup instanceof RObject !== sub instanceof RObject) throw new BuiltinError('object.subset: both arguments must be objects');
    return isSubset(sup, sub);
  },
};

/** JSON paths for json.filter / json.remove: "a/b/c" strings or arrays of segments. */
function jsonPaths(name: string, v: Value): Value[][] {
  const list = Array.isArray(v) ? v : v instanceof RSet ? v.sorted() : undefined;
  if (!list) throw operandTypeError(name, 2, ['set', 'array'], v);
  return list.map((p) => {
    if (p === '') return []; // the whole document (RFC 6901), unlike "/" which is the key ""
  if (typeof p === 'string') return safePath(name, p.replace(/^\//, '').split('/').filter((s) => s !== '').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')));
    if (Array.isArray(p)) return safePath(name, [...p]);
    throw operandTypeError(name, 2, ['set', 'array'], p, ' containing string paths or array of path segments');
  });
}

function removePath(v: Value, path: Value[]): Value {
  if (path.length === 0) return v;
  const [head, ...rest] = path;
  if (v instanceof RObject) {
    const out = new RObject();
    for (const [k, x] of v.entries()) {
      if (keyOf(k) === keyOf(head)) {
        if (rest.length > 0) out.set(k, removePath(x, rest));
      } else out.set(k, x);
    }
    return out;
  }
  if (Array.isArray(v)) {
    const idx = typeof head === 'string' ? Number(head) : head;
    return v.flatMap((x, i) => (i === idx ? (rest.length > 0 ? [removePath(x, rest)] : []) : [x]));
  }
  if (v instanceof RSet) return new RSet([...v].filter((x) => !(keyOf(x) === keyOf(head) && rest.length === 0)));
  return v;
}

function filterPaths(v: Value, paths: Value[][]): Value {
  if (paths.some((p) => p.length === 0)) return v;
  const heads = new Map<string, { key: Value; rests: Value[][] }>();
  for (const [h, ...rest] of paths) {
    const e = heads.get(keyOf(h)) ?? { key: h, rests: [] };
    e.rests.push(rest);
    heads.set(keyOf(h), e);
  }
  if (v instanceof RObject) {
    const out = new RObject();
    for (const [k, x] of v.entries()) {
      const e = heads.get(keyOf(k));
      if (e) out.set(k, filterPaths(x, e.rests));
    }
    return out;
  }
  if (Array.isArray(v)) {
    return v.flatMap((x, i) => {
      const e = heads.get(keyOf(String(i))) ?? heads.get(keyOf(i));
      return e ? [filterPaths(x, e.rests)] : [];
    });
  }
  if (v instanceof RSet) return new RSet([...v].filter((x) => heads.has(keyOf(x))));
  return v;
}

builtins['json.remove'] = {
  arity: 2,
  fn: ([o, paths]) => {
    if (!(o instanceof RObject)) throw operandTypeError('json.remove', 1, ['object'], o);
    return jsonPaths('json.remove', paths).reduce<Value>((acc, p) => removePath(acc, p), o);
  },
};
builtins['json.filter'] = {
  arity: 2,
  fn: ([o, paths]) => {
    if (!(o instanceof RObject)) throw operandTypeError('json.filter', 1, ['object'], o);
    return filterPaths(o, jsonPaths('json.filter', paths));
  },
};

/** json.patch paths: "/a/b" (RFC 6901, ~0 ~1 escapes; the leading slash optional) or an array of keys. */
function patchPath(p: Value): Value[] | undefined {
  if (p === '') return []; // the whole document (RFC 6901), unlike "/" which is the key ""
  if (typeof p === 'string') return safePath('json.patch', p.replace(/^\//, '').split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')));
  return Array.isArray(p) ? safePath('json.patch', [...p]) : undefined;
}

function arrayIndex(seg: Value, length: number, allowEnd: boolean): number | undefined {
  if (allowEnd && seg === '-') return length;
  const n = typeof seg === 'number' ? seg : typeof seg === 'string' && /^(0|[1-9]\d*)$/.test(seg) ? Number(seg) : NaN;
  return Number.isInteger(n) && n >= 0 && (n < length || (allowEnd && n === length)) ? n : undefined;
}

function patchGet(doc: Value, path: Value[]): Value | undefined {
  let cur: Value | undefined = doc;
  for (const seg of path) {
    if (cur instanceof RObject) cur = cur.get(seg);
    else if (Array.isArray(cur)) {
      const i = arrayIndex(seg, cur.length, false);
      cur = i === undefined ? undefined : cur[i];
    } else if (cur instanceof RSet) cur = cur.has(seg) ? seg : undefined;
    else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Applies `change` to the container holding the last segment; undefined when the path does not exist. */
function patchAt(doc: Value, path: Value[], change: (parent: Value, seg: Value) => Value | undefined): Value | undefined {
  if (path.length === 0) return undefined;
  const [seg, ...rest] = path;
  if (rest.length === 0) return change(doc, seg);
  const child = patchGet(doc, [seg]);
  if (child === undefined) return undefined;
  const updated = patchAt(child, rest, change);
  if (updated === undefined) return undefined;
  if (doc instanceof RObject) return new RObject(doc.entries()).set(seg, updated);
  if (Array.isArray(doc)) return doc.map((x, i) => (i === arrayIndex(seg, doc.length, false) ? updated : x));
  if (doc instanceof RSet) return new RSet([...doc].filter((x) => keyOf(x) !== keyOf(seg)).concat([updated]));
  return undefined;
}

function patchAdd(doc: Value, path: Value[], value: Value): Value | undefined {
  if (path.length === 0) return value;
  return patchAt(doc, path, (parent, seg) => {
    if (parent instanceof RObject) return new RObject(parent.entries()).set(seg, value);
    if (Array.isArray(parent)) {
      const i = arrayIndex(seg, parent.length, true);
      return i === undefined ? undefined : [...parent.slice(0, i), value, ...parent.slice(i)];
    }
    if (parent instanceof RSet) return keyOf(seg) === keyOf(value) ? new RSet([...parent, value]) : undefined;
    return undefined;
  });
}

function patchRemove(doc: Value, path: Value[]): Value | undefined {
  return patchAt(doc, path, (parent, seg) => {
    if (parent instanceof RObject) return parent.has(seg) ? new RObject([...parent.entries()].filter(([k]) => keyOf(k) !== keyOf(seg))) : undefined;
    if (Array.isArray(parent)) {
      const i = arrayIndex(seg, parent.length, false);
      return i === undefined ? undefined : parent.filter((_, j) => j !== i);
    }
    if (parent instanceof RSet) return parent.has(seg) ? new RSet([...parent].filter((x) => keyOf(x) !== keyOf(seg))) : undefined;
    return undefined;
  });
}

builtins['json.patch'] = {
  arity: 2,
  fn: ([doc, patches]) => {
    if (!Array.isArray(patches)) throw operandTypeError('json.patch', 2, ['array[object]'], patches);
    let cur: Value | undefined = doc;
    for (const p of patches) {
      if (!(p instanceof RObject) || cur === undefined) return undefined;
      const op = p.get('op');
      const path = patchPath(p.get('path') ?? null);
      if (typeof op !== 'string' || !path) return undefined;
      const from = p.get('from') === undefined ? undefined : patchPath(p.get('from') as Value);
      const value = p.get('value');
      switch (op) {
        case 'add':
          cur = value === undefined ? undefined : patchAdd(cur, path, value);
          break;
        case 'remove':
          cur = patchRemove(cur, path);
          break;
        case 'replace':
          cur = value === undefined || patchGet(cur, path) === undefined ? undefined : patchAdd(patchRemove(cur, path) ?? cur, path, value);
          break;
        case 'move':
        case 'copy': {
          const moved = from ? patchGet(cur, from) : undefined;
          if (moved === undefined || !from) return undefined;
          const base: Value | undefined = op === 'move' ? patchRemove(cur, from) : cur;
          cur = base === undefined ? undefined : patchAdd(base, path, moved);
          break;
        }
        case 'test': {
          const at = patchGet(cur, path);
          if (at === undefined || value === undefined || keyOf(at) !== keyOf(value)) return undefined;
          break;
        }
        default:
          return undefined;
      }
    }
    return cur;
  },
};
