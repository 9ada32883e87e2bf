/**
 * How failures become HTTP answers. Bodies follow the KBS protocol's problem-details form
 * (`{type, detail}`) and add confcom's `code` and `hint`. Anything unexpected is a 500 whose body says
 * nothing about internals; the service fails closed on every path.
 */
import type { FastifyReply } from 'fastify';
import { ConfcomError, ExitCode } from '../../core/errors.js';
import { KbsDeniedError, KbsRequestError } from '../kbs/errors.js';
import { TokenError } from '../token/errors.js';

export const PROBLEM_TYPE_BASE = 'https://github.com/confidential-containers/kbs/errors/';

export function statusOf(error: unknown): number {
  if (error instanceof KbsDeniedError) return error.status;
  if (error instanceof KbsRequestError) return error.status;
  if (error instanceof TokenError) return 401;
  if (error instanceof ConfcomError) {
    // A failed verification or appraisal is an authentication failure in the KBS protocol's terms.
    if (error.exitCode === ExitCode.CheckFailed) return 401;
    if (error.exitCode === ExitCode.BadInput) return 400;
  }
  return 500;
}

export function sendProblem(reply: FastifyReply, error: unknown): FastifyReply {
  const status = statusOf(error);
  if (status === 500 || !(error instanceof ConfcomError)) {
    return reply.code(500).send({ type: `${PROBLEM_TYPE_BASE}InternalError`, code: 'internal', detail: 'internal error' });
  }
  const body: Record<string, unknown> = { type: `${PROBLEM_TYPE_BASE}${error.code}`, code: error.code, detail: error.message };
  if (error.hint) body.hint = error.hint;
  if (error.location?.path) body.path = error.location.path;
  return reply.code(status).send(body);
}
