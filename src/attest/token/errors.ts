/** Errors of the token part: every failure to verify a token is a denial with a stable code. */
import { CheckFailedError, type ConfcomErrorOptions } from '../../core/errors.js';

export type TokenErrorCode =
  | 'token_malformed'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_bad_signature'
  | 'token_unknown_key'
  | 'token_bad_issuer'
  | 'token_bad_algorithm';

/** A token was refused. Messages never contain the token itself (it is a bearer credential). */
export class TokenError extends CheckFailedError {
  constructor(code: TokenErrorCode, message: string, options: Omit<ConfcomErrorOptions, 'exitCode'> = {}) {
    super(code, message, { hint: 'attest again to obtain a fresh token', ...options });
  }
}
