/**
 * Kubernetes resource quantities (`500m`, `64Mi`, `1.5`, `2e3`) as exact rationals, for the values
 * `resourceFieldRef` environment variables get: ceil(quantity / divisor), as the kubelet computes.
 */
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const NANO = 9;

/** The quantity in units of 10^-9, or undefined when it is not a valid quantity. */
export function parseQuantity(text: string): bigint | undefined {
  const m = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([eE][+-]?[0-9]+)|(n|u|m|k|M|G|T|P|E))?$/.exec(text.trim());
  if (!m) return undefined;
  const [, sign, number, binary, exponent, decimal] = m;
  const [whole, fraction = ''] = number.split('.');
  let value = BigInt((whole || '0') + fraction);
  let scale = NANO - fraction.length;
  if (binary) value *= 1n << BigInt(BINARY[binary]);
  else if (exponent) scale += Number(exponent.slice(1));
  else scale += DECIMAL[decimal ?? ''];
  value = scale >= 0 ? value * 10n ** BigInt(scale) : value / 10n ** BigInt(-scale) + (value % 10n ** BigInt(-scale) === 0n ? 0n : 1n);
  return sign === '-' ? -value : value;
}

/** ceil(quantity / divisor) as decimal text; undefined when either does not parse or the divisor is 0. */
export function divideCeil(quantity: string, divisor: string): string | undefined {
  const q = parseQuantity(quantity);
  const d = parseQuantity(divisor);
  if (q === undefined || d === undefined || d === 0n) return undefined;
  const whole = q / d;
  return String(q % d === 0n || q < 0n ? whole : whole + 1n);
}
