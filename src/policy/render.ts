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

/** JSON with object keys in sorted order, two-space indentation. */
export function stableJson(value: JsonValue, indent = ''): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + stableJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    if (keys.length === 0) return '{}';
    return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${stableJson(value[k], inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
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
