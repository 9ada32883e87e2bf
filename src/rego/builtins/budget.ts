/**
 * Bounds for builtins whose work or output can grow faster than their input (ranges, padding, shifts,
 * exponents, replacements). A builtin asks `spend` before it allocates in proportion to a number it was
 * given, and `checkDeadline` inside loops. Both throw RegoLimitError, which the evaluator never turns
 * into "undefined": a policy that hits a limit fails closed (the decision is an error, hence a denial).
 */
import { RegoLimitError } from '../errors.js';
import type { BuiltinContext } from './registry.js';

/** Elements or characters one builtin call may produce when the context sets no budget (16 Mi). */
export const DEFAULT_MAX_BUILTIN_SIZE = 1 << 24;

/** Decimal digits a number produced by a builtin may have (bigint text, exponent scaling). */
export const MAX_NUMBER_DIGITS = 100_000;

/** Throws when `size` (elements, characters or digits) exceeds the call's budget. */
export function spend(ctx: BuiltinContext | undefined, name: string, size: number | bigint, limit = ctx?.maxBuiltinSize ?? DEFAULT_MAX_BUILTIN_SIZE): void {
  if (size > limit) throw new RegoLimitError(`${name}: result of ${size} exceeds the builtin size limit of ${limit}`);
}

/** Throws when the evaluation's deadline has passed (call it every few thousand iterations of a loop). */
export function checkDeadline(ctx: BuiltinContext | undefined, name: string): void {
  const deadline = ctx?.deadline;
  if (deadline !== undefined && Date.now() > deadline) throw new RegoLimitError(`${name}: evaluation deadline exceeded`);
}

/**
 * Turns the engine errors an unbounded allocation or recursion raises (RangeError: invalid string/array
 * length, maximum call stack) into a RegoLimitError, so they cannot be mistaken for "no result".
 */
export function asLimitError(name: string, error: unknown): unknown {
  if (error instanceof RangeError) return new RegoLimitError(`${name}: ${error.message}`);
  return error;
}
