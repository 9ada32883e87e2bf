/** Which builtin calls the evaluator memoises within a query, and the memo entry it keeps per call site. */
import type { BuiltinSpec } from './builtins/registry.js';
import type { Value } from './value.js';

export interface MemoEntry {
  args: readonly Value[];
  result: Value | undefined;
}

export function isMemoKey(v: Value): v is string | number | boolean | null {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/**
 * Builtin families whose work dwarfs a memo lookup (regex and glob matching, parsing, crypto, formatting).
 * The string operations Kata policies call most (replace, concat, split) cost less than the lookup and the
 * memo entries it allocates: measured, memoising them made a CreateContainer decision ~3% slower.
 */
const MEMOISED_PREFIXES = ['regex.', 'glob.', 'json.', 'yaml.', 'units.', 'semver.', 'crypto.', 'io.jwt.', 'graphql.', 'net.cidr', 'time.parse', 'strings.render_template'];

export function worthMemoising(name: string, spec: BuiltinSpec): boolean {
  return spec.nondeterministic !== true && (name === 'sprintf' || MEMOISED_PREFIXES.some((p) => name.startsWith(p)));
}
