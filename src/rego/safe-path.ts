/**
 * Path segments that reach a JS object's prototype when used as a property name. Documents inside the
 * engine are Maps (RObject), but JSON documents outside it (agent policy state, the server's base data,
 * JSON Patch targets) are plain objects: every place that applies a path refuses these segments, so no
 * request can reach Object.prototype, and the refusal is the same everywhere.
 */
import { RegoError } from './errors.js';

export const UNSAFE_PATH_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isUnsafeSegment(segment: unknown): boolean {
  return typeof segment === 'string' && UNSAFE_PATH_SEGMENTS.has(segment);
}

/** The first unsafe segment of a path, or undefined when the path is safe. */
export function unsafeSegment(path: readonly unknown[]): string | undefined {
  return path.find(isUnsafeSegment) as string | undefined;
}

/**
 * A builtin was given a path through `__proto__`, `constructor` or `prototype`. Not a BuiltinError: the
 * evaluator does not turn it into "undefined", so a policy that tries it fails closed.
 */
export class UnsafePathError extends RegoError {
  constructor(name: string, segment: string) {
    super('eval_builtin_error', `${name}: path segment ${JSON.stringify(segment)} is not allowed`, undefined, 'rename the key; __proto__, constructor and prototype are refused in paths');
  }
}

/** Returns the path, or throws UnsafePathError naming the builtin. */
export function safePath<T extends readonly unknown[]>(name: string, path: T): T {
  const bad = unsafeSegment(path);
  if (bad !== undefined) throw new UnsafePathError(name, bad);
  return path;
}
