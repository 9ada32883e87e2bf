/**
 * The contract between the evaluator and builtin families.
 *
 * Each family file (strings.ts, regex.ts, ...) exports a `BuiltinTable` (name -> spec); index.ts merges
 * them into one registry. A builtin receives fully evaluated argument values and returns a value, or
 * `undefined` for "no result". It throws:
 *   - `EvalTypeError` for a wrong operand type, with OPA's message, built by `operandTypeError`;
 *   - `BuiltinError` for any other failure (bad input such as an invalid regex or base64); the
 *     evaluator turns it into undefined unless strict builtin errors are on, as OPA does.
 */
import { EvalTypeError } from '../errors.js';
import { typeName, type TypeName, type Value } from '../value.js';

export interface BuiltinContext {
  /** Strict builtin errors (OPA's --strict-builtin-errors): BuiltinError is raised instead of undefined. */
  readonly strict: boolean;
  /** Current time in nanoseconds since the epoch, fixed for one evaluation (time.now_ns). */
  readonly nowNs: bigint;
  /** Emits one line of `print` output. */
  print(line: string): void;
  /** Per-evaluation cache for builtins that want one (compiled regexes, parsed certs, ...). */
  readonly cache: Map<string, unknown>;
  /** Epoch milliseconds after which builtins stop with RegoLimitError (the evaluation's timeout). */
  readonly deadline?: number;
  /** Elements or characters one builtin call may produce (budget.ts DEFAULT_MAX_BUILTIN_SIZE when unset). */
  readonly maxBuiltinSize?: number;
}

export interface BuiltinSpec {
  /** Number of arguments (not counting the optional output argument OPA allows). */
  arity: number;
  fn: (args: readonly Value[], ctx: BuiltinContext) => Value | undefined;
  /** Non-deterministic builtins (time.now_ns, rand.intn, http.send, ...). */
  nondeterministic?: boolean;
  /** Declared operand types for compile-time checks, OPA style (e.g. [['string'], ['array','set']]). */
  argTypes?: readonly (readonly (TypeName | 'any')[])[];
  /** Declared result type, for compile-time checks. */
  resultType?: TypeName | 'any';
}

export type BuiltinTable = Record<string, BuiltinSpec>;

/** OPA's text for the expected types, in the order the builtin declares them. */
function describeTypes(types: readonly string[]): string {
  return types.length === 1 ? types[0] : `one of {${types.join(', ')}}`;
}

/** `<name>: operand <n> must be <type> but got <type>` (OPA's eval_type_error message). */
export function operandTypeError(name: string, position: number, expected: readonly string[], got: Value, qualifier = ''): EvalTypeError {
  return new EvalTypeError(`${name}: operand ${position} must be ${describeTypes(expected)}${qualifier} but got ${typeName(got)}`);
}

/** Returns the argument when it is a string, else throws OPA's operand type error. */
export function expectString(name: string, args: readonly Value[], index: number): string {
  const v = args[index];
  if (typeof v !== 'string') throw operandTypeError(name, index + 1, ['string'], v);
  return v;
}
