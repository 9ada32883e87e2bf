/**
 * Rego builtins: units.parse (SI and binary suffixes, "m" is milli) and units.parse_bytes, with exact
 * decimal arithmetic (the amount is scaled as a decimal string times an integer multiplier).
 */
import { BuiltinError } from '../errors.js';
import { numFromBigInt, type Value } from '../value.js';
import { MAX_NUMBER_DIGITS, spend } from './budget.js';
import { expectString, type BuiltinContext, type BuiltinTable } from './registry.js';

const K = 1000n;
const KI = 1024n;
const DECIMAL: Record<string, bigint> = { '': 1n, k: K, m: K ** 2n, g: K ** 3n, t: K ** 4n, p: K ** 5n, e: K ** 6n };
const BINARY: Record<string, bigint> = { ki: KI, mi: KI ** 2n, gi: KI ** 3n, ti: KI ** 4n, pi: KI ** 5n, ei: KI ** 6n };

/** Splits "10.5Ki" into ["10.5", "Ki"]. */
function split(s: string): [string, string] {
  const m = /^([0-9]*\.?[0-9]*(?:[eE][+-]?[0-9]+)?)(.*)$/.exec(s) as RegExpExecArray;
  return [m[1], m[2]];
}

/** amount (decimal text) * multiplier / divisor, exact; integer results as integers. */
function scale(name: string, ctx: BuiltinContext, signed: string, multiplier: bigint, divisor: bigint, truncate: boolean): Value {
  const negative = signed.startsWith('-');
  const amount = negative ? signed.slice(1) : signed;
  const m = /^(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(amount) as RegExpExecArray;
  const frac = m[2] ?? '';
  let exp = Number(m[3] ?? '0') - frac.length;
  // 10^exp is built exactly: an exponent like 1e99999999 would be a 100-million-digit number.
  spend(ctx, name, Math.abs(exp), MAX_NUMBER_DIGITS);
  let digits = BigInt((m[1] || '0') + frac || '0') * multiplier * (negative ? -1n : 1n);
  let den = divisor;
  if (exp >= 0) digits *= 10n ** BigInt(exp);
  else den *= 10n ** BigInt(-exp);
  exp = 0;
  if (digits % den === 0n || truncate) return numFromBigInt(digits / den);
  return Number(digits) / Number(den);
}

function prepare(name: string, raw: string, what: string): [string, string] {
  const s = raw.replace(/"/g, '');
  if (/\s/.test(s)) throw new BuiltinError(`${name}: spaces not allowed in resource strings`);
  const [amount, unit] = split(s);
  if (amount === '' || amount === '.') throw new BuiltinError(`${name}: no ${what} provided`);
  if (Number.isNaN(Number(amount)) || /^[.\d]/.test(unit)) throw new BuiltinError(`${name}: could not parse ${what} to a number`);
  return [amount, unit];
}

export const builtins: BuiltinTable = {
  'units.parse': {
    arity: 1,
    fn: (args, ctx) => {
      // units.parse takes a sign (OPA: "-3.5E2m" is -0.35); byte amounts cannot be negative.
      const text = expectString('units.parse', args, 0);
      const sign = text.startsWith('-') ? '-' : '';
      const [unsigned, unit] = prepare('units.parse', sign ? text.slice(1) : text, 'amount');
      const amount = sign + unsigned;
      if (unit === 'm') return scale('units.parse', ctx, amount, 1n, 1000n, false);
      const lower = unit.toLowerCase();
      const mult = DECIMAL[lower] ?? BINARY[lower];
      if (mult === undefined) throw new BuiltinError(`units.parse: unit ${JSON.stringify(unit)} not recognized`);
      return scale('units.parse', ctx, amount, mult, 1n, false);
    },
  },
  'units.parse_bytes': {
    arity: 1,
    fn: (args, ctx) => {
      const [amount, unit] = prepare('units.parse_bytes', expectString('units.parse_bytes', args, 0), 'byte amount');
      const lower = unit.toLowerCase().replace(/b$/, '');
      const mult = lower.endsWith('i') ? BINARY[lower] : DECIMAL[lower];
      if (mult === undefined) throw new BuiltinError(`units.parse_bytes: byte unit ${JSON.stringify(unit)} not recognized`);
      return scale('units.parse_bytes', ctx, amount, mult, 1n, true);
    },
  },
};
