/** Rego builtins: numbers. */
import { randomInt } from 'node:crypto';
import { BuiltinError, EvalTypeError } from '../errors.js';
import { isInteger, isNumber, toDouble, type RNumber, type Value } from '../value.js';
import { checkDeadline, spend } from './budget.js';
import { operandTypeError, type BuiltinContext, type BuiltinTable } from './registry.js';

const RANDOM_INT_LIMIT = 2 ** 48 - 1;

function num(name: string, v: Value, i: number): RNumber {
  if (!isNumber(v)) throw operandTypeError(name, i + 1, ['number'], v);
  return v;
}
const unary = (name: string, f: (x: number) => number) => ({ arity: 1, fn: ([v]: readonly Value[]) => (isInteger(num(name, v, 0)) ? v : f(toDouble(v as RNumber))) });

function range(name: string, a: Value, b: Value, step: number, ctx: BuiltinContext): Value[] {
  if (!isNumber(a) || !isInteger(a)) throw isNumber(a) ? new EvalTypeError(`${name}: operand 1 must be integer number but got floating-point number`) : operandTypeError(name, 1, ['number'], a);
  if (!isNumber(b) || !isInteger(b)) throw isNumber(b) ? new EvalTypeError(`${name}: operand 2 must be integer number but got floating-point number`) : operandTypeError(name, 2, ['number'], b);
  const from = toDouble(a);
  const to = toDouble(b);
  spend(ctx, name, Math.floor(Math.abs(to - from) / step) + 1);
  const out: number[] = [];
  // The size was checked above; the deadline still applies to a large (allowed) range.
  const push = (i: number): void => {
    if ((out.push(i) & 0xffff) === 0) checkDeadline(ctx, name);
  };
  if (from <= to) for (let i = from; i <= to; i += step) push(i);
  else for (let i = from; i >= to; i -= step) push(i);
  return out;
}

export const builtins: BuiltinTable = {
  'rand.intn': {
    arity: 2,
    nondeterministic: true,
    // The same key and bound give the same number within one evaluation, as OPA caches it.
    fn: ([key, n], ctx) => {
      if (typeof key !== 'string') throw operandTypeError('rand.intn', 1, ['string'], key);
      const bound = num('rand.intn', n, 1);
      if (!isInteger(bound)) throw new EvalTypeError('rand.intn: operand 2 must be integer number but got floating-point number');
      const max = Math.abs(toDouble(bound));
      if (max === 0) return 0;
      const cacheKey = `rand.intn:${key}:${max}`;
      let v = ctx.cache.get(cacheKey) as number | undefined;
      if (v === undefined) {
        // crypto.randomInt takes bounds below 2^48; beyond that, scale a 48-bit draw.
        v = max < RANDOM_INT_LIMIT ? randomInt(max) : Math.floor((randomInt(RANDOM_INT_LIMIT) / RANDOM_INT_LIMIT) * max);
        ctx.cache.set(cacheKey, v);
      }
      return v;
    },
  },
  abs: { arity: 1, fn: ([v]) => { const n = num('abs', v, 0); return typeof n === 'number' ? Math.abs(n) : toDouble(n) < 0 ? Math.abs(toDouble(n)) : n; } },
  round: unary('round', (x) => (x < 0 ? -Math.round(-x) : Math.round(x))),
  ceil: unary('ceil', Math.ceil),
  floor: unary('floor', Math.floor),
  'numbers.range': { arity: 2, fn: ([a, b], ctx) => range('numbers.range', a, b, 1, ctx) },
  'numbers.range_step': {
    arity: 3,
    fn: ([a, b, s], ctx) => {
      if (!isNumber(s)) throw operandTypeError('numbers.range_step', 3, ['number'], s);
      if (!isInteger(s) || toDouble(s) <= 0) throw new BuiltinError('numbers.range_step: step must be a positive integer');
      return range('numbers.range_step', a, b, toDouble(s), ctx);
    },
  },
};
