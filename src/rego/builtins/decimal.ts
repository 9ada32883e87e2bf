/**
 * Decimal arithmetic for results a double cannot hold (1e400 * 1, 1e308 + 1e308). OPA computes with
 * big.Float, so such results are numbers, never Infinity. A value here is mantissa * 10^exponent; the
 * mantissa is rounded to SIGNIFICANT digits, about what OPA's big.Float keeps, so sizes stay small.
 */
import { numFromText, type RNumber } from '../value.js';
import { MAX_NUMBER_DIGITS } from './budget.js';

interface Decimal {
  m: bigint;
  e: number;
}

const SIGNIFICANT = 34;
const DECIMAL_TEXT = /^(-?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i;

function decimalOf(n: RNumber): Decimal {
  const text = typeof n === 'number' ? String(n) : n.text;
  const parts = DECIMAL_TEXT.exec(text);
  if (!parts) throw new RangeError(`not a finite decimal: ${text}`);
  const [, sign, intPart, fracPart = '', expPart = '0'] = parts;
  return { m: BigInt(sign + ((intPart + fracPart).replace(/^0+(?=\d)/, '') || '0')), e: Number(expPart) - fracPart.length };
}

/** Drops digits beyond SIGNIFICANT (round half away from zero) and trailing zeros. */
function normalize({ m, e }: Decimal): Decimal {
  const digits = (m < 0n ? -m : m).toString().length;
  if (digits > SIGNIFICANT) {
    const cut = 10n ** BigInt(digits - SIGNIFICANT);
    const half = cut / 2n;
    m = m < 0n ? -((-m + half) / cut) : (m + half) / cut;
    e += digits - SIGNIFICANT;
  }
  if (m === 0n) return { m, e: 0 };
  while (m % 10n === 0n) {
    m /= 10n;
    e++;
  }
  return { m, e };
}

function toNumber(d: Decimal): RNumber {
  const { m, e } = normalize(d);
  return numFromText(e === 0 ? m.toString() : `${m}e${e}`);
}

function align(a: Decimal, b: Decimal): [Decimal, Decimal] | undefined {
  const gap = Math.abs(a.e - b.e);
  // Beyond the precision kept, the smaller operand does not change the larger one.
  if (gap > SIGNIFICANT * 2 + MAX_NUMBER_DIGITS / 1000) return undefined;
  return a.e > b.e ? [{ m: a.m * 10n ** BigInt(gap), e: b.e }, b] : [a, { m: b.m * 10n ** BigInt(gap), e: a.e }];
}

function magnitude(d: Decimal): number {
  return (d.m < 0n ? -d.m : d.m).toString().length + d.e;
}

export function decimalAdd(x: RNumber, y: RNumber, negateY = false): RNumber {
  const a = decimalOf(x);
  const b0 = decimalOf(y);
  const b = negateY ? { m: -b0.m, e: b0.e } : b0;
  const aligned = align(a, b);
  if (!aligned) return toNumber(magnitude(a) >= magnitude(b) ? a : b);
  return toNumber({ m: aligned[0].m + aligned[1].m, e: aligned[0].e });
}

export function decimalMul(x: RNumber, y: RNumber): RNumber {
  const a = normalize(decimalOf(x));
  const b = normalize(decimalOf(y));
  return toNumber({ m: a.m * b.m, e: a.e + b.e });
}

/** x / y for y != 0, to SIGNIFICANT digits. */
export function decimalDiv(x: RNumber, y: RNumber): RNumber {
  const a = normalize(decimalOf(x));
  const b = normalize(decimalOf(y));
  const shift = SIGNIFICANT + 2 + Math.max(0, b.m.toString().length - a.m.toString().length);
  return toNumber({ m: (a.m * 10n ** BigInt(shift)) / b.m, e: a.e - b.e - shift });
}
