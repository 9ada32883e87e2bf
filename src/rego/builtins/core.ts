/** Rego builtins: operators (comparison, arithmetic, set algebra) and membership. */
import { BuiltinError, EvalTypeError } from '../errors.js';
import { compare, equals, isNumber, numFromBigInt, RObject, RSet, toBigInt, toDouble, typeName, type RNumber, type Value } from '../value.js';
import { decimalAdd, decimalDiv, decimalMul } from './decimal.js';
import { operandTypeError, type BuiltinTable } from './registry.js';

function num(name: string, args: readonly Value[], i: number): RNumber {
  const v = args[i];
  if (!isNumber(v)) throw operandTypeError(name, i + 1, ['number'], v);
  return v;
}

type DecimalOp = (a: RNumber, b: RNumber) => RNumber;

function arith(name: string, op: (a: bigint, b: bigint) => bigint, fop: (a: number, b: number) => number, dop: DecimalOp) {
  return (args: readonly Value[]): Value => {
    const a = num(name, args, 0);
    const b = num(name, args, 1);
    if (typeof a === 'number' && typeof b === 'number') {
      const r = fop(a, b);
      if (Number.isSafeInteger(r) || !Number.isInteger(r)) return r;
    }
    const ai = toBigInt(a);
    const bi = toBigInt(b);
    if (ai !== undefined && bi !== undefined) return numFromBigInt(op(ai, bi));
    const r = fop(toDouble(a), toDouble(b));
    // Out of double range (1e400 * 1): OPA's big.Float gives a number, never Infinity.
    return Number.isFinite(r) ? r : dop(a, b);
  };
}

function setOp(name: string, numberOp: ((args: readonly Value[]) => Value) | undefined, fn: (a: RSet, b: RSet) => RSet) {
  return (args: readonly Value[]): Value => {
    const [a, b] = args;
    if (a instanceof RSet && b instanceof RSet) return fn(a, b);
    if (numberOp && isNumber(a) && isNumber(b)) return numberOp(args);
    const expected = numberOp ? ['number', 'set'] : ['set'];
    if (!(a instanceof RSet) && !(numberOp && isNumber(a))) throw operandTypeError(name, 1, expected, a);
    // OPA names the type operand 1 fixed: a number wants a number, a set wants a set.
    throw operandTypeError(name, 2, [a instanceof RSet ? 'set' : 'number'], b);
  };
}

/** The request keys OPA's http.send accepts (its own validation runs before any network use). */
const HTTP_SEND_KEYS = new Set([
  'method', 'url', 'body', 'enable_redirect', 'force_json_decode', 'force_yaml_decode', 'headers', 'raw_body',
  'tls_use_system_certs', 'tls_ca_cert', 'tls_ca_cert_file', 'tls_ca_cert_env_variable', 'tls_client_cert',
  'tls_client_cert_file', 'tls_client_cert_env_variable', 'tls_client_key', 'tls_client_key_file',
  'tls_client_key_env_variable', 'tls_insecure_skip_verify', 'tls_server_name', 'timeout', 'cache', 'force_cache',
  'force_cache_duration_seconds', 'raise_error', 'caching_mode', 'max_retry_attempts', 'cache_ignored_headers',
]);

const quotedSet = (keys: string[]) => `{${keys.sort().map((k) => JSON.stringify(k)).join(', ')}}`;

/**
 * http.send: a policy engine inside a confidential guest must not reach the network, so after OPA's own
 * request validation (same errors) it fails as a builtin error (undefined unless strict). Tests mock it with `with`.
 */
function httpSend([req]: readonly Value[]): Value {
  if (!(req instanceof RObject)) throw operandTypeError('http.send', 1, ['object'], req);
  const keys = req.keys().map((k) => (typeof k === 'string' ? k : JSON.stringify(k)));
  const invalid = keys.filter((k) => !HTTP_SEND_KEYS.has(k));
  if (invalid.length) throw new EvalTypeError(`invalid request parameters(s): ${quotedSet(invalid)}`);
  const missing = ['method', 'url'].filter((k) => !keys.includes(k));
  if (missing.length) throw new EvalTypeError(`missing required request parameters(s): ${quotedSet(missing)}`);
  throw new BuiltinError('http.send: network access is disabled in this engine');
}

const minusNumbers = arith('minus', (a, b) => a - b, (a, b) => a - b, (a, b) => decimalAdd(a, b, true));

export const builtins: BuiltinTable = {
  equal: { arity: 2, fn: ([a, b]) => equals(a, b) },
  eq: { arity: 2, fn: ([a, b]) => equals(a, b) },
  neq: { arity: 2, fn: ([a, b]) => !equals(a, b) },
  lt: { arity: 2, fn: ([a, b]) => compare(a, b) < 0 },
  lte: { arity: 2, fn: ([a, b]) => compare(a, b) <= 0 },
  gt: { arity: 2, fn: ([a, b]) => compare(a, b) > 0 },
  gte: { arity: 2, fn: ([a, b]) => compare(a, b) >= 0 },
  plus: { arity: 2, fn: arith('plus', (a, b) => a + b, (a, b) => a + b, decimalAdd) },
  minus: { arity: 2, fn: setOp('minus', minusNumbers, (a, b) => new RSet([...a].filter((x) => !b.has(x)))) },
  mul: { arity: 2, fn: arith('mul', (a, b) => a * b, (a, b) => a * b, decimalMul) },
  div: {
    arity: 2,
    fn: (args) => {
      const a = num('div', args, 0);
      const b = num('div', args, 1);
      if (toDouble(b) === 0) throw new BuiltinError('div: divide by zero');
      const ai = toBigInt(a);
      const bi = toBigInt(b);
      if (ai !== undefined && bi !== undefined && ai % bi === 0n) return numFromBigInt(ai / bi);
      const r = toDouble(a) / toDouble(b);
      return Number.isFinite(r) ? r : decimalDiv(a, b);
    },
  },
  rem: {
    arity: 2,
    fn: (args) => {
      const a = num('rem', args, 0);
      const b = num('rem', args, 1);
      const ai = toBigInt(a);
      const bi = toBigInt(b);
      if (ai === undefined || bi === undefined) throw new BuiltinError('rem: modulo on floating-point number');
      if (bi === 0n) throw new BuiltinError('rem: modulo by zero');
      return numFromBigInt(ai % bi);
    },
  },
  or: { arity: 2, fn: setOp('or', undefined, (a, b) => new RSet([...a, ...b])) },
  and: { arity: 2, fn: setOp('and', undefined, (a, b) => new RSet([...a].filter((x) => b.has(x)))) },
  'internal.member_2': {
    arity: 2,
    fn: ([x, coll]) => {
      if (Array.isArray(coll)) return coll.some((v) => equals(v, x));
      if (coll instanceof RSet) return coll.has(x);
      if (coll instanceof RObject) return coll.values().some((v) => equals(v, x));
      return false;
    },
  },
  'internal.member_3': {
    arity: 3,
    fn: ([k, x, coll]) => {
      if (Array.isArray(coll)) return typeof k === 'number' && Number.isInteger(k) && k >= 0 && k < coll.length && equals(coll[k], x);
      if (coll instanceof RObject) {
        const v = coll.get(k);
        return v !== undefined && equals(v, x);
      }
      return false;
    },
  },
  'http.send': { arity: 1, fn: httpSend, nondeterministic: true },
  // No environment, configuration or version details leak into policies: an empty runtime document.
  'opa.runtime': { arity: 0, fn: () => new RObject(), nondeterministic: true },
  trace: { arity: 1, fn: ([s]) => (typeof s === 'string' ? true : (() => { throw operandTypeError('trace', 1, ['string'], s); })()) },
  type_name: { arity: 1, fn: ([v]) => typeName(v) },
};
