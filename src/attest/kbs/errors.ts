/** Errors of the key broker: each carries the HTTP status the service answers with. */
import { CheckFailedError, InputError, type ConfcomErrorOptions } from '../../core/errors.js';

/** The request is malformed (400). */
export class KbsRequestError extends InputError {
  readonly status = 400;
}

/** Attestation or authorisation said no (401 without a valid session/token, 403 when refused). */
export class KbsDeniedError extends CheckFailedError {
  constructor(
    code: string,
    message: string,
    readonly status: 401 | 403 | 404,
    options: Omit<ConfcomErrorOptions, 'exitCode'> = {},
  ) {
    super(code, message, options);
  }
}
