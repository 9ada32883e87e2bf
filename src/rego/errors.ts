/**
 * Rego errors, with OPA's error codes (the conformance suite matches code and message text).
 * Builtins throw BuiltinError / TypeErrorRego without a location; the evaluator adds the location of the
 * call. Limit errors (source size, nesting, steps) are typed so callers can fail closed on them.
 */
import { ConfcomError, type ErrorLocation } from '../core/errors.js';

export type RegoErrorCode =
  | 'rego_parse_error'
  | 'rego_compile_error'
  | 'rego_type_error'
  | 'rego_unsafe_var_error'
  | 'rego_recursion_error'
  | 'eval_type_error'
  | 'eval_builtin_error'
  | 'eval_conflict_error'
  | 'eval_internal_error'
  | 'eval_cancel_error'
  | 'rego_limit_error';

export class RegoError extends ConfcomError {
  readonly regoCode: RegoErrorCode;
  constructor(code: RegoErrorCode, message: string, location?: ErrorLocation, hint?: string) {
    super(code, message, { location, hint });
    this.regoCode = code;
  }
}

/** A builtin failed on its input (OPA: eval_builtin_error). Suppressed to undefined unless strict. */
export class BuiltinError extends RegoError {
  constructor(message: string, location?: ErrorLocation) {
    super('eval_builtin_error', message, location);
  }
}

/** An operand has the wrong type (OPA: eval_type_error). Like OPA, a builtin's operand error is undefined unless strict. */
export class EvalTypeError extends RegoError {
  constructor(message: string, location?: ErrorLocation) {
    super('eval_type_error', message, location);
  }
}

/**
 * Source nested deeper than the parser allows (OPA: rego_parse_error "max parsing recursion depth
 * reached"). A parse error, as in OPA, so callers that sort errors by stage see it as one.
 */
export class ParseDepthError extends RegoError {
  constructor(limit: number, location?: ErrorLocation) {
    super('rego_parse_error', `max parsing recursion depth reached (nesting deeper than ${limit})`, location, 'flatten the nesting of the policy or query');
  }
}

/** A configured limit (source size, nesting depth, evaluation steps, time) was exceeded. */
export class RegoLimitError extends RegoError {
  constructor(message: string, location?: ErrorLocation) {
    super('rego_limit_error', message, location, 'raise the limit in the engine options if this input is trusted');
  }
}
