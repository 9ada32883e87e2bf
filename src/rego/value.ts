/**
 * Rego values.
 *
 * Representation (chosen for speed on the hot path of policy decisions):
 *   null, boolean, string  -> JS null, boolean, string
 *   number                 -> JS number when exact, else BigNum (keeps exact decimal text; bigint for integers)
 *   array                  -> readonly Value[] (a plain JS array)
 *   object                 -> RObject (any keys, hashed by canonical key)
 *   set                    -> RSet
 *   undefined              -> JS undefined (never stored inside a collection)
 *
 * Ordering follows OPA (ast/compare.go): null < boolean < number < string < array < object < set;
 * arrays compare element-wise then by length; objects by their sorted keys, then values; sets by their
 * sorted elements. Strings compare by UTF-8 bytes (Go's order), which differs from JS's UTF-16 order
 * only for astral characters versus U+E000..U+FFFF.
 */

export type Value = null | boolean | RNumber | string | readonly Value[] | RObject | RSet;
export type RNumber = number | BigNum;

export type TypeName = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' | 'set';

/**
 * A number that a JS double cannot hold exactly: an integer beyond 2^53, or a decimal whose value is
 * out of double range (e.g. 2e308) or would lose digits. `text` is the canonical decimal text; `int`
 * is set when the value is an integer.
 */
export class BigNum {
  constructor(
    readonly text: string,
    readonly int?: bigint,
  ) {}
  toString(): string {
    return this.text;
  }
}

/** Makes a number value from a bigint, as a JS number when it is a safe integer. */
export function numFromBigInt(n: bigint): RNumber {
  if (n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER)) return Number(n);
  return new BigNum(n.toString(), n);
}

const INTEGER_TEXT = /^-?\d+$/;

/** Makes a number value from its source text (a Rego or JSON number literal), keeping it exact. */
export function numFromText(text: string): RNumber {
  if (INTEGER_TEXT.test(text)) {
    const asNumber = Number(text);
    if (Number.isSafeInteger(asNumber)) return asNumber;
    return numFromBigInt(BigInt(text));
  }
  const asNumber = Number(text);
  if (!Number.isFinite(asNumber)) return new BigNum(normalizeDecimalText(text));
  // Integers written with an exponent or fraction (1e3, 2.0) are integers.
  if (Number.isInteger(asNumber) && !Number.isSafeInteger(asNumber)) {
    const exact = decimalTextToBigInt(text);
    if (exact !== undefined) return numFromBigInt(exact);
  }
  return asNumber;
}

/** Exact integer value of a decimal literal like 1.5e20, or undefined when it has a fraction. */
function decimalTextToBigInt(text: string): bigint | undefined {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return undefined;
  const [, sign, intPart, fracPart = '', expPart = '0'] = m;
  const exp = Number(expPart) - fracPart.length;
  let digits = (intPart + fracPart).replace(/^0+/, '') || '0';
  if (exp >= 0) digits += '0'.repeat(exp);
  else {
    const cut = digits.length + exp;
    const dropped = cut > 0 ? digits.slice(cut) : digits;
    if (/[^0]/.test(dropped)) return undefined;
    digits = cut > 0 ? digits.slice(0, cut) : '0';
  }
  return BigInt(sign + digits);
}

function normalizeDecimalText(text: string): string {
  return text.replace(/^\+/, '').replace(/[eE]\+?/, 'e');
}

export function isNumber(v: Value | undefined): v is RNumber {
  return typeof v === 'number' || v instanceof BigNum;
}

/** The number as a JS double (lossy for BigNum). */
export function toDouble(n: RNumber): number {
  return typeof n === 'number' ? n : Number(n.text);
}

/** The number as a bigint when it is an integer, else undefined. */
export function toBigInt(n: RNumber): bigint | undefined {
  if (typeof n === 'number') return Number.isInteger(n) ? BigInt(n) : undefined;
  return n.int;
}

export function isInteger(n: RNumber): boolean {
  return typeof n === 'number' ? Number.isInteger(n) : n.int !== undefined;
}

/** Canonical text of a number, as OPA prints it in JSON. */
export function numberText(n: RNumber): string {
  if (typeof n !== 'number') return n.text;
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return n.toFixed(0);
  return String(n);
}

/** A key that a JS Map can hold as itself: equal Rego values are equal JS values (SameValueZero). */
type PlainKey = string | number | boolean | null;

/**
 * Scalars hash as themselves (no key string built per lookup, the hottest operation of a decision).
 * Integers beyond 2^53 are excepted: they must meet the BigNum of the same value under one key.
 */
function isPlainKey(v: Value): v is PlainKey {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isSafeInteger(v) || !Number.isInteger(v);
    default:
      return v === null;
  }
}

/**
 * Elements are held in two maps: plain scalars by themselves, the rest (collections, big numbers) by
 * their canonical key (keyOf). The second map exists only once such an element is added.
 */
export class RSet {
  private readonly plain = new Set<PlainKey>();
  private other: Map<string, Value> | undefined;
  private sortedCache: Value[] | undefined;

  constructor(values: Iterable<Value> = []) {
    for (const v of values) this.add(v);
  }
  get size(): number {
    return this.plain.size + (this.other?.size ?? 0);
  }
  has(v: Value): boolean {
    if (isPlainKey(v)) return this.plain.has(v);
    return this.other !== undefined && this.other.has(keyOf(v));
  }
  /** Mutating add: only while a set is being built, before it is shared. */
  add(v: Value): this {
    if (isPlainKey(v)) {
      if (this.plain.has(v)) return this;
      this.plain.add(v);
    } else {
      const k = keyOf(v);
      this.other ??= new Map();
      if (this.other.has(k)) return this;
      this.other.set(k, v);
    }
    this.sortedCache = undefined;
    return this;
  }
  *values(): IterableIterator<Value> {
    yield* this.plain;
    if (this.other) yield* this.other.values();
  }
  /** Elements in OPA order (cached). */
  sorted(): readonly Value[] {
    if (this.sortedCache === undefined) {
      const out: Value[] = [...this.plain];
      if (this.other) for (const v of this.other.values()) out.push(v);
      this.sortedCache = out.sort(compare);
    }
    return this.sortedCache;
  }
  [Symbol.iterator](): IterableIterator<Value> {
    return this.values();
  }
}

/** Entries are held as RSet holds elements: plain keys map to their value, other keys to [key, value]. */
export class RObject {
  private readonly plain = new Map<PlainKey, Value>();
  private other: Map<string, [Value, Value]> | undefined;
  private sortedCache: [Value, Value][] | undefined;

  constructor(entries: Iterable<readonly [Value, Value]> = []) {
    for (const [k, v] of entries) this.set(k, v);
  }
  static fromRecord(record: Record<string, Value>): RObject {
    const o = new RObject();
    for (const k of Object.keys(record)) o.set(k, record[k]);
    return o;
  }
  get size(): number {
    return this.plain.size + (this.other?.size ?? 0);
  }
  get(key: Value): Value | undefined {
    if (isPlainKey(key)) return this.plain.get(key);
    return this.other?.get(keyOf(key))?.[1];
  }
  has(key: Value): boolean {
    if (isPlainKey(key)) return this.plain.has(key);
    return this.other !== undefined && this.other.has(keyOf(key));
  }
  /** Mutating set: only while an object is being built, before it is shared. */
  set(key: Value, value: Value): this {
    if (isPlainKey(key)) this.plain.set(key, value);
    else (this.other ??= new Map()).set(keyOf(key), [key, value]);
    this.sortedCache = undefined;
    return this;
  }
  delete(key: Value): boolean {
    this.sortedCache = undefined;
    if (isPlainKey(key)) return this.plain.delete(key);
    return this.other !== undefined && this.other.delete(keyOf(key));
  }
  keys(): Value[] {
    const out: Value[] = [...this.plain.keys()];
    if (this.other) for (const [k] of this.other.values()) out.push(k);
    return out;
  }
  values(): Value[] {
    const out: Value[] = [...this.plain.values()];
    if (this.other) for (const [, v] of this.other.values()) out.push(v);
    return out;
  }
  *entries(): IterableIterator<[Value, Value]> {
    for (const e of this.plain) yield e;
    if (this.other) yield* this.other.values();
  }
  /** Entries ordered by key in OPA order (cached). */
  sortedEntries(): readonly [Value, Value][] {
    if (this.sortedCache === undefined) {
      const out: [Value, Value][] = [...this.plain];
      if (this.other) for (const e of this.other.values()) out.push(e);
      this.sortedCache = out.sort((a, b) => compare(a[0], b[0]));
    }
    return this.sortedCache;
  }
}

/**
 * A canonical string for a value, equal for equal values (used as the hash key of sets and objects).
 * Numbers compare by value, so 1 and 1.0 share a key.
 */
export function keyOf(v: Value): string {
  switch (typeof v) {
    case 'string':
      return 's' + v;
    case 'number':
      return 'n' + numberText(v);
    case 'boolean':
      return v ? 't' : 'f';
    default:
      break;
  }
  if (v === null) return 'z';
  if (v instanceof BigNum) return 'n' + (v.int !== undefined ? v.int.toString() : v.text);
  if (Array.isArray(v)) return 'a[' + v.map(keyOf).join(',') + ']';
  if (v instanceof RSet) return 'S{' + v.sorted().map(keyOf).join(',') + '}';
  if (v instanceof RObject) return 'o{' + v.sortedEntries().map(([k, x]) => keyOf(k) + ':' + keyOf(x)).join(',') + '}';
  throw new Error(`keyOf: not a Rego value: ${String(v)}`);
}

export function typeName(v: Value): TypeName {
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    default:
      break;
  }
  if (v === null) return 'null';
  if (v instanceof BigNum) return 'number';
  if (Array.isArray(v)) return 'array';
  if (v instanceof RSet) return 'set';
  if (v instanceof RObject) return 'object';
  throw new Error(`typeName: not a Rego value: ${String(v)}`);
}

const TYPE_ORDER: Record<TypeName, number> = { null: 0, boolean: 1, number: 2, string: 3, array: 4, object: 5, set: 6 };

/** Compares numbers exactly, including BigNum values. */
export function compareNumbers(a: RNumber, b: RNumber): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  const ai = toBigInt(a);
  const bi = toBigInt(b);
  if (ai !== undefined && bi !== undefined) return ai < bi ? -1 : ai > bi ? 1 : 0;
  const ad = toDouble(a);
  const bd = toDouble(b);
  return ad < bd ? -1 : ad > bd ? 1 : 0;
}

/** Go-style string order: by UTF-8 bytes. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // A surrogate (astral char) sorts after every BMP char in UTF-8, but before U+E000..U+FFFF in UTF-16.
    const sa = ca >= 0xd800 && ca <= 0xdfff;
    const sb = cb >= 0xd800 && cb <= 0xdfff;
    if (sa !== sb) return sa ? 1 : -1;
    return ca < cb ? -1 : 1;
  }
  return a.length - b.length < 0 ? -1 : a.length === b.length ? 0 : 1;
}

/** Total order over values, as OPA's ast.Compare. */
export function compare(a: Value, b: Value): number {
  const ta = typeName(a);
  const tb = typeName(b);
  if (ta !== tb) return TYPE_ORDER[ta] < TYPE_ORDER[tb] ? -1 : 1;
  switch (ta) {
    case 'null':
      return 0;
    case 'boolean':
      return a === b ? 0 : a === false ? -1 : 1;
    case 'number':
      return compareNumbers(a as RNumber, b as RNumber);
    case 'string':
      return compareStrings(a as string, b as string);
    case 'array': {
      const x = a as readonly Value[];
      const y = b as readonly Value[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compare(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
    }
    case 'object': {
      const x = (a as RObject).sortedEntries();
      const y = (b as RObject).sortedEntries();
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compare(x[i][0], y[i][0]);
        if (c !== 0) return c;
      }
      for (let i = 0; i < n; i++) {
        const c = compare(x[i][1], y[i][1]);
        if (c !== 0) return c;
      }
      return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
    }
    case 'set': {
      const x = (a as RSet).sorted();
      const y = (b as RSet).sorted();
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compare(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
    }
  }
}

/**
 * Whether two values are equal. Structural, not by ordering: sizes first, then members, so unequal
 * collections usually answer after one look and objects are never sorted (compare() sorts their keys).
 */
export function equals(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (typeof a !== 'object' || typeof b !== 'object') {
    // Scalars equal only when ===, except a number beside its big-number spelling.
    return (a instanceof BigNum || b instanceof BigNum) && compare(a, b) === 0;
  }
  if (a instanceof BigNum || b instanceof BigNum) return compare(a, b) === 0;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equals(a[i], b[i])) return false;
    return true;
  }
  // Members are looked up by key; a key of another spelling (a number and its big-number form) is found
  // only by compare(), so a failed lookup defers to it.
  if (a instanceof RObject) {
    if (!(b instanceof RObject) || a.size !== b.size) return false;
    for (const [k, v] of a.entries()) {
      const w = b.get(k);
      if (w === undefined) return compare(a, b) === 0;
      if (!equals(v, w)) return false;
    }
    return true;
  }
  if (a instanceof RSet) {
    if (!(b instanceof RSet) || a.size !== b.size) return false;
    for (const v of a.values()) if (!b.has(v)) return compare(a, b) === 0;
    return true;
  }
  return compare(a, b) === 0;
}

/** A JSON-compatible JS value (what JSON.parse returns), used at the engine's boundaries. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Converts parsed JSON (or any plain JS data) into a Rego value. */
export function fromJson(j: unknown): Value {
  if (j === null || j === undefined) return null;
  switch (typeof j) {
    case 'string':
    case 'boolean':
      return j;
    case 'number':
      return j;
    case 'bigint':
      return numFromBigInt(j);
    default:
      break;
  }
  if (Array.isArray(j)) return j.map(fromJson);
  if (j instanceof RSet || j instanceof RObject || j instanceof BigNum) return j;
  const o = new RObject();
  for (const k of Object.keys(j as object)) o.set(k, fromJson((j as Record<string, unknown>)[k]));
  return o;
}

/** Text of a non-string object key when it must become a JSON key (OPA writes the key's JSON). */
function jsonKey(k: Value): string {
  return typeof k === 'string' ? k : serializeJson(k);
}

/**
 * Converts a value to plain JSON data: sets become arrays in OPA order, objects get sorted keys.
 * BigNum values become JS numbers (lossy); use serializeJson for exact text.
 */
export function toJson(v: Value): Json {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (v instanceof BigNum) return Number(v.text);
  if (Array.isArray(v)) return v.map(toJson);
  if (v instanceof RSet) return v.sorted().map(toJson);
  const out: { [key: string]: Json } = {};
  for (const [k, x] of (v as RObject).sortedEntries()) {
    const key = jsonKey(k);
    // A key named `__proto__` is data: define it, never assign it (assigning would replace the prototype).
    if (key === '__proto__') Object.defineProperty(out, key, { value: toJson(x), enumerable: true, writable: true, configurable: true });
    else out[key] = toJson(x);
  }
  return out;
}

/** Exact JSON text of a value: sorted keys, sets as sorted arrays, numbers with their exact digits. */
export function serializeJson(v: Value, indent?: number): string {
  const text = serializeCompact(v);
  return indent === undefined ? text : JSON.stringify(JSON.parse(text), null, indent);
}

/** The text of a scalar (null, string, boolean, number), the same in JSON and in Rego; undefined for collections. */
export function scalarText(v: Value): string | undefined {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return numberText(v);
    default:
      return v instanceof BigNum ? v.text : undefined;
  }
}

function serializeCompact(v: Value): string {
  const scalar = scalarText(v);
  if (scalar !== undefined) return scalar;
  if (Array.isArray(v)) return '[' + v.map(serializeCompact).join(',') + ']';
  if (v instanceof RSet) return '[' + v.sorted().map(serializeCompact).join(',') + ']';
  const o = v as RObject;
  const parts = [...o.sortedEntries()]
    .map(([k, x]) => [jsonKey(k), x] as const)
    .sort((p, q) => compareStrings(p[0], q[0]))
    .map(([k, x]) => JSON.stringify(k) + ':' + serializeCompact(x));
  return '{' + parts.join(',') + '}';
}
