/**
 * Policy text = our rules (rules/rules.rego), then `policy_data := {...}` as JSON with sorted keys, so
 * the same input always gives the same bytes, and so the same HOST_DATA.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import type { JsonValue } from './policy-data.js';

const RULES_URL = new URL('./rules/rules.rego', import.meta.url);

let rulesText: string | undefined;

/** The rules shipped with confcom. */
export function rulesRego(): string {
  rulesText ??= readFileSync(RULES_URL, 'utf8');
  return rulesText;
}

/** A copy with every object's keys in sorted order (arrays keep theirs). */
function sortedKeys(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: { [key: string]: JsonValue } = {};
  for (const k of Object.keys(value).sort()) out[k] = sortedKeys(value[k]);
  return out;
}

/** JSON with object keys in sorted order, two-space indentation (the native writer does the rest). */
export function stableJson(value: JsonValue, indent = ''): string {
  const text = JSON.stringify(sortedKeys(value), null, 2);
  return indent === '' ? text : text.replace(/\n/g, `\n${indent}`);
}

export const POLICY_DATA_MARKER = '\npolicy_data := ';

export function renderPolicy(data: JsonValue, rules = rulesRego()): string {
  return `${rules.trimEnd()}\n${POLICY_DATA_MARKER}${stableJson(data)}\n`;
}

/** Splits policy text back into rules and policy_data (for drift checks). */
export function parsePolicy(text: string, origin: string): { rules: string; data: JsonValue } {
  const at = text.lastIndexOf(POLICY_DATA_MARKER);
  if (at < 0) {
    throw new InputError('policy_not_ours', `the policy in ${origin} has no 'policy_data := ' section`, { hint: 'only policies written by `confcom policy generate` can be checked for drift' });
  }
  try {
    return { rules: text.slice(0, at), data: JSON.parse(text.slice(at + POLICY_DATA_MARKER.length)) as JsonValue };
  } catch (cause) {
    throw new InputError('policy_not_ours', `the policy_data of ${origin} is not JSON`, { hint: 'regenerate the policy with `confcom policy generate`', cause });
  }
}
