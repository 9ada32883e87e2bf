/**
 * Rego builtins: JSON Schema (json.verify_schema, json.match_schema).
 *
 * OPA validates with gojsonschema (drafts 4, 6 and 7), so results carry gojsonschema's error types,
 * descriptions and field names: `(root)` for the document itself, dotted paths below it (`a.0.b`).
 * The schema is checked before use and a bad schema is an error, as in OPA. Only local `$ref`s
 * (`#`, `#/definitions/...`, any JSON pointer into the schema) are followed: a policy engine must not
 * fetch remote schemas. Patterns use re2js (linear time), never JS RegExp on policy-supplied text.
 */
import { RE2JS } from 're2js';
import { BuiltinError } from '../errors.js';
import { fromJson, RObject, toJson, type Json, type Value } from '../value.js';
import { operandTypeError, type BuiltinTable } from './registry.js';

type Schema = Json;
type JsonObject = { [key: string]: Json };

const PRIMITIVE_TYPES = ['array', 'boolean', 'integer', 'number', 'null', 'object', 'string'];

class SchemaError extends Error {}

export interface SchemaViolation {
  type: string;
  field: string;
  desc: string;
}

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** gojsonschema's name for a value's type: whole numbers are integers. */
function typeOf(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v === 'object' ? 'object' : typeof v;
}

function typeMatches(v: Json, t: string): boolean {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

/** Deep equality of JSON values (object key order ignored). */
function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (!isObject(a) || !isObject(b)) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => k in b && jsonEqual(a[k], b[k]));
}

/** Go's %v-like text of a value inside a description (enum lists, const). */
const show = (v: Json) => JSON.stringify(v);

const PATTERNS = new Map<string, RE2JS>();
function pattern(text: string): RE2JS {
  let re = PATTERNS.get(text);
  if (!re) {
    try {
      re = RE2JS.compile(text);
    } catch {
      throw new SchemaError(`Invalid regex pattern '${text}'`);
    }
    if (PATTERNS.size > 1000) PATTERNS.clear();
    PATTERNS.set(text, re);
  }
  return re;
}

const FORMATS: Record<string, (s: string) => boolean> = {
  'date-time': (s) => /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)),
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
  time: (s) => /^\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s),
  email: (s) => /^[^@\s]+@[^@\s]+$/.test(s),
  hostname: (s) => s.length <= 255 && s.split('.').every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l)),
  ipv4: (s) => /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s),
  ipv6: (s) => s.includes(':') && /^[0-9A-Fa-f:.]+$/.test(s) && s.split('::').length <= 2,
  uri: (s) => /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$/.test(s),
  uuid: (s) => /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s),
  regex: (s) => {
    try {
      RE2JS.compile(s);
      return true;
    } catch {
      return false;
    }
  },
};

/** Follows a local `$ref` (a JSON pointer into the root schema). */
function resolveRef(root: Schema, ref: string): Schema {
  if (!ref.startsWith('#')) throw new SchemaError(`remote reference '${ref}' is not followed (only local references, '#...')`);
  let cur: Json | undefined = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const seg = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    cur = Array.isArray(cur) ? cur[Number(seg)] : isObject(cur) ? cur[seg] : undefined;
    if (cur === undefined) throw new SchemaError(`reference '${ref}' points to nothing in the schema`);
  }
  return cur;
}

/** Checks a schema's own shape (what gojsonschema refuses when it loads a schema). */
function checkSchema(s: Schema, root: Schema, seen = new Set<Json>()): void {
  if (typeof s === 'boolean') return;
  if (!isObject(s)) throw new SchemaError(`Invalid type. Expected: object or boolean, given: ${typeOf(s)}`);
  if (seen.has(s)) return;
  seen.add(s);
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  for (const t of types) {
    if (typeof t !== 'string' || !PRIMITIVE_TYPES.includes(t)) {
      throw new SchemaError(`has a primitive type that is NOT VALID -- given: /${typeof t === 'string' ? t : show(t)}/ Expected valid values are:[${PRIMITIVE_TYPES.join(' ')}]`);
    }
  }
  if (s.required !== undefined && !(Array.isArray(s.required) && s.required.every((r) => typeof r === 'string'))) throw new SchemaError('required must be an array of strings');
  if (s.enum !== undefined && !Array.isArray(s.enum)) throw new SchemaError('enum must be an array');
  for (const k of ['minimum', 'maximum', 'multipleOf', 'minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties']) {
    if (s[k] !== undefined && typeof s[k] !== 'number') throw new SchemaError(`${k} must be a number`);
  }
  if (typeof s.multipleOf === 'number' && s.multipleOf <= 0) throw new SchemaError('multipleOf must be strictly greater than 0');
  if (typeof s.pattern === 'string') pattern(s.pattern);
  if (typeof s.$ref === 'string') checkSchema(resolveRef(root, s.$ref), root, seen);
  for (const k of ['properties', 'patternProperties', 'definitions', 'dependencies']) {
    const m = s[k];
    if (m === undefined) continue;
    if (!isObject(m)) throw new SchemaError(`${k} must be an object`);
    for (const [name, sub] of Object.entries(m)) {
      if (k === 'patternProperties') pattern(name);
      if (!(k === 'dependencies' && Array.isArray(sub))) checkSchema(sub, root, seen);
    }
  }
  for (const k of ['additionalProperties', 'additionalItems', 'not', 'contains', 'propertyNames', 'if', 'then', 'else']) if (s[k] !== undefined) checkSchema(s[k], root, seen);
  if (s.items !== undefined) (Array.isArray(s.items) ? s.items : [s.items]).forEach((sub) => checkSchema(sub, root, seen));
  for (const k of ['allOf', 'anyOf', 'oneOf']) {
    const list = s[k];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0) throw new SchemaError(`${k} must be a non-empty array of schemas`);
    list.forEach((sub) => checkSchema(sub, root, seen));
  }
}

const child = (field: string, key: string | number) => (field === '(root)' ? String(key) : `${field}.${key}`);

/** Validates `v` against `s`; appends gojsonschema-style violations. */
function validate(v: Json, s: Schema, root: Schema, field: string, out: SchemaViolation[], depth = 0): void {
  if (depth > 256) throw new SchemaError('schema references nest too deeply (a $ref cycle?)');
  const add = (type: string, desc: string, at = field): void => {
    out.push({ type, field: at, desc });
  };
  if (s === true) return;
  if (s === false) return add('false', 'False always fails validation');
  if (!isObject(s)) return;
  if (typeof s.$ref === 'string') return validate(v, resolveRef(root, s.$ref), root, field, out, depth + 1); // draft 7: $ref wins
  const sub = (value: Json, schema: Schema, at: string): SchemaViolation[] => {
    const errs: SchemaViolation[] = [];
    validate(value, schema, root, at, errs, depth + 1);
    return errs;
  };

  if (s.type !== undefined) {
    const types = (Array.isArray(s.type) ? s.type : [s.type]) as string[];
    if (!types.some((t) => typeMatches(v, t))) return add('invalid_type', `Invalid type. Expected: ${types.join('/')}, given: ${typeOf(v)}`);
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => jsonEqual(e, v))) add('enum', `${field} must be one of the following: ${s.enum.map(show).join(', ')}`);
  if ('const' in s && !jsonEqual(s.const as Json, v)) add('const', `${field} does not match: ${show(s.const as Json)}`);

  if (Array.isArray(s.allOf) && s.allOf.some((x) => sub(v, x, field).length > 0)) {
    for (const x of s.allOf) out.push(...sub(v, x, field));
    add('number_all_of', 'Must validate all the schemas (allOf)');
  }
  if (Array.isArray(s.anyOf) && !s.anyOf.some((x) => sub(v, x, field).length === 0)) add('number_any_of', 'Must validate at least one schema (anyOf)');
  if (Array.isArray(s.oneOf) && s.oneOf.filter((x) => sub(v, x, field).length === 0).length !== 1) add('number_one_of', 'Must validate one and only one schema (oneOf)');
  if (s.not !== undefined && sub(v, s.not, field).length === 0) add('number_not', 'Must not validate the schema (not)');
  if (s.if !== undefined) {
    if (sub(v, s.if, field).length === 0) {
      if (s.then !== undefined && sub(v, s.then, field).length > 0) add('condition_then', 'Must validate "then" as "if" was valid');
    } else if (s.else !== undefined && sub(v, s.else, field).length > 0) add('condition_else', 'Must validate "else" as "if" was not valid');
  }

  if (typeof v === 'number') validateNumber(v, s, add);
  if (typeof v === 'string') validateString(v, s, add);
  if (Array.isArray(v)) {
    if (typeof s.minItems === 'number' && v.length < s.minItems) add('array_min_items', `Array must have at least ${s.minItems} items`);
    if (typeof s.maxItems === 'number' && v.length > s.maxItems) add('array_max_items', `Array must have at most ${s.maxItems} items`);
    if (s.uniqueItems === true) {
      outer: for (let i = 0; i < v.length; i++) {
        for (let j = i + 1; j < v.length; j++) {
          if (jsonEqual(v[i], v[j])) {
            add('unique', `array items[${i},${j}] must be unique`);
            break outer;
          }
        }
      }
    }
    if (Array.isArray(s.items)) {
      const tuple = s.items;
      v.forEach((x, i) => {
        if (i < tuple.length) validate(x, tuple[i], root, child(field, i), out, depth + 1);
        else if (s.additionalItems === false) add('array_no_additional_items', 'No additional items allowed on array');
        else if (s.additionalItems !== undefined) validate(x, s.additionalItems, root, child(field, i), out, depth + 1);
      });
    } else if (s.items !== undefined) {
      const items = s.items;
      v.forEach((x, i) => validate(x, items, root, child(field, i), out, depth + 1));
    }
    if (s.contains !== undefined && !v.some((x, i) => sub(x, s.contains as Json, child(field, i)).length === 0)) add('contains', 'At least one of the items must match');
  }
  if (isObject(v)) validateObject(v, s, root, field, out, depth, add);
}

type Add = (type: string, desc: string, at?: string) => void;

function validateNumber(v: number, s: JsonObject, add: Add): void {
  if (typeof s.multipleOf === 'number') {
    const q = v / s.multipleOf;
    if (Math.abs(q - Math.round(q)) > 1e-9) add('multiple_of', `Must be a multiple of ${s.multipleOf}`);
  }
  // Draft 4 writes exclusive bounds as booleans beside minimum/maximum; drafts 6 and 7 as numbers.
  if (typeof s.minimum === 'number') {
    if (s.exclusiveMinimum === true ? v <= s.minimum : v < s.minimum) add(s.exclusiveMinimum === true ? 'number_gt' : 'number_gte', `Must be greater than ${s.exclusiveMinimum === true ? '' : 'or equal to '}${s.minimum}`);
  }
  if (typeof s.exclusiveMinimum === 'number' && v <= s.exclusiveMinimum) add('number_gt', `Must be greater than ${s.exclusiveMinimum}`);
  if (typeof s.maximum === 'number') {
    if (s.exclusiveMaximum === true ? v >= s.maximum : v > s.maximum) add(s.exclusiveMaximum === true ? 'number_lt' : 'number_lte', `Must be less than ${s.exclusiveMaximum === true ? '' : 'or equal to '}${s.maximum}`);
  }
  if (typeof s.exclusiveMaximum === 'number' && v >= s.exclusiveMaximum) add('number_lt', `Must be less than ${s.exclusiveMaximum}`);
}

function validateString(v: string, s: JsonObject, add: Add): void {
  const length = Array.from(v).length; // code points, as gojsonschema counts runes
  if (typeof s.minLength === 'number' && length < s.minLength) add('string_gte', `String length must be greater than or equal to ${s.minLength}`);
  if (typeof s.maxLength === 'number' && length > s.maxLength) add('string_lte', `String length must be less than or equal to ${s.maxLength}`);
  if (typeof s.pattern === 'string' && !pattern(s.pattern).matcher(v).find()) add('pattern', `Does not match pattern '${s.pattern}'`);
  if (typeof s.format === 'string' && FORMATS[s.format] && !FORMATS[s.format](v)) add('format', `Does not match format '${s.format}'`);
}

function validateObject(v: JsonObject, s: JsonObject, root: Schema, field: string, out: SchemaViolation[], depth: number, add: Add): void {
  const keys = Object.keys(v);
  if (typeof s.minProperties === 'number' && keys.length < s.minProperties) add('array_min_properties', `Must have at least ${s.minProperties} properties`);
  if (typeof s.maxProperties === 'number' && keys.length > s.maxProperties) add('array_max_properties', `Must have at most ${s.maxProperties} properties`);
  if (Array.isArray(s.required)) for (const r of s.required) if (typeof r === 'string' && !(r in v)) add('required', `${r} is required`);
  const props = isObject(s.properties) ? s.properties : {};
  const patterns = isObject(s.patternProperties) ? Object.entries(s.patternProperties) : [];
  for (const k of keys) {
    const at = child(field, k);
    let matched = false;
    if (k in props) {
      matched = true;
      validate(v[k], props[k], root, at, out, depth + 1);
    }
    for (const [p, ps] of patterns) {
      if (pattern(p).matcher(k).find()) {
        matched = true;
        validate(v[k], ps, root, at, out, depth + 1);
      }
    }
    if (!matched && s.additionalProperties !== undefined) {
      if (s.additionalProperties === false) add('additional_property_not_allowed', `Additional property ${k} is not allowed`);
      else validate(v[k], s.additionalProperties, root, at, out, depth + 1);
    }
    if (s.propertyNames !== undefined) {
      const errs: SchemaViolation[] = [];
      validate(k, s.propertyNames, root, at, errs, depth + 1);
      if (errs.length > 0) add('invalid_property_name', `Property "${k}" does not match pattern`, at);
    }
  }
  if (isObject(s.dependencies)) {
    for (const [k, dep] of Object.entries(s.dependencies)) {
      if (!(k in v)) continue;
      if (Array.isArray(dep)) {
        for (const d of dep) if (typeof d === 'string' && !(d in v)) add('missing_dependency', `Has a dependency on ${d}`);
      } else validate(v, dep, root, field, out, depth + 1);
    }
  }
}

/** A schema or document operand: a JSON string, or any value (objects as they are). */
function operandJson(name: string, position: number, v: Value, what: string): Json {
  if (typeof v === 'string') {
    try {
      return JSON.parse(v) as Json;
    } catch (error) {
      throw new BuiltinError(`${name}: ${what} is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (v instanceof RObject || typeof v === 'boolean') return toJson(v);
  throw operandTypeError(name, position, ['string', 'object', 'boolean'], v);
}

/** Validates `document` against `schema`: the violations, in gojsonschema's order (empty = valid). */
export function matchSchema(document: Json, schema: Schema): SchemaViolation[] {
  checkSchema(schema, schema);
  const out: SchemaViolation[] = [];
  validate(document, schema, schema, '(root)', out);
  return out;
}

export const builtins: BuiltinTable = {
  'json.verify_schema': {
    arity: 1,
    fn: ([schema]) => {
      const s = operandJson('json.verify_schema', 1, schema, 'schema');
      try {
        checkSchema(s, s);
        return [true, null];
      } catch (error) {
        if (error instanceof SchemaError) return [false, `jsonschema: ${error.message}`];
        throw error;
      }
    },
  },
  'json.match_schema': {
    arity: 2,
    fn: ([document, schema]) => {
      const doc = typeof document === 'string' ? operandJson('json.match_schema', 1, document, 'document') : toJson(document);
      const s = operandJson('json.match_schema', 2, schema, 'schema');
      let violations: SchemaViolation[];
      try {
        violations = matchSchema(doc, s);
      } catch (error) {
        if (error instanceof SchemaError) throw new BuiltinError(`json.match_schema: ${error.message}`);
        throw error;
      }
      const errors = violations.map((e) => fromJson({ error: `${e.field}: ${e.desc}`, type: e.type, field: e.field, desc: e.desc }));
      return [violations.length === 0, errors];
    },
  },
};
