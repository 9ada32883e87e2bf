/**
 * Values known only in part when the policy is generated: literal text mixed with runtime values (a
 * pod IP, a generated pod name, a Secret value). The policy pins the literal parts and constrains
 * the others by pattern; simulated requests use each part's sample.
 */
import { escapeRegex } from '../k8s/kinds/index.js';

export type Part = { lit: string } | { re: string; sample: string; secret?: boolean };
export type Value = Part[];

export const lit = (text: string): Value => [{ lit: text }];

export function isExact(value: Value): boolean {
  return value.every((p) => 'lit' in p);
}

/** The value's text when every part is literal; otherwise undefined. */
export function exactText(value: Value): string | undefined {
  return isExact(value) ? value.map((p) => ('lit' in p ? p.lit : '')).join('') : undefined;
}

/** The value's pattern body (no anchors). */
export function patternOf(value: Value): string {
  return value.map((p) => ('lit' in p ? escapeRegex(p.lit) : `(${p.re})`)).join('');
}

/** The value with samples for runtime parts: what a simulated request carries. */
export function sampleOf(value: Value): string {
  return value.map((p) => ('lit' in p ? p.lit : p.sample)).join('');
}


/** Joins values, merging adjacent literals. */
export function concatValues(...values: Value[]): Value {
  const out: Part[] = [];
  for (const part of values.flat()) {
    const last = out[out.length - 1];
    if ('lit' in part && last && 'lit' in last) out[out.length - 1] = { lit: last.lit + part.lit };
    else if (!('lit' in part) || part.lit !== '') out.push(part);
  }
  return out;
}
