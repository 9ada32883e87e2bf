/** Values as Rego source text (OPA's Term.String()): used by print, sprintf %v and template strings. */
import { RObject, RSet, scalarText, type Value } from './value.js';

export function formatValue(v: Value): string {
  const scalar = scalarText(v);
  if (scalar !== undefined) return scalar;
  if (Array.isArray(v)) return '[' + v.map(formatValue).join(', ') + ']';
  if (v instanceof RSet) return v.size === 0 ? 'set()' : '{' + v.sorted().map(formatValue).join(', ') + '}';
  const o = v as RObject;
  return '{' + o.sortedEntries().map(([k, x]) => `${formatValue(k)}: ${formatValue(x)}`).join(', ') + '}';
}

/** print() and template strings show strings without quotes, everything else as Rego text. */
export function formatForPrint(v: Value | undefined): string {
  if (v === undefined) return '<undefined>';
  return typeof v === 'string' ? v : formatValue(v);
}
