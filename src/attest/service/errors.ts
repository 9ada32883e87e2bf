/**
 * How failures become HTTP answers, in each peer's own form:
 *
 * - KBS routes (`/kbs/v0/...`): trustee's ErrorInformation `{type, detail}` with its problem types
 *   (kbs/src/error.rs): AttestationError, TokenNotFound, TokenVerifierError, AdminAuth, JweError, SerdeError
 *   (401), PolicyDeny (403), InvalidRequestPath (404). confcom adds `code` and `hint`.
 * - the other routes: the same problem-details form with confcom's code as the type.
 *
 * Anything unexpected is a 500 whose body says nothing about internals; every path fails closed.
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

function body(error: ConfcomError, type: string): Record<string, unknown> {
  const out: Record<string, unknown> = { type: `${PROBLEM_TYPE_BASE}${type}`, detail: error.message, code: error.code };
  if (error.hint) out.hint = error.hint;
  if (error.location?.path) out.path = error.location.path;
  return out;
}

export function sendProblem(reply: FastifyReply, error: unknown): FastifyReply {
  const status = statusOf(error);
  if (status === 500 || !(error instanceof ConfcomError)) {
    return reply.code(500).send({ type: `${PROBLEM_TYPE_BASE}InternalError`, code: 'internal', detail: 'internal error' });
  }
  return reply.code(status).send(body(error, error.code));
}

/** Trustee's problem type and status for one of our errors. */
export function kbsProblemOf(error: ConfcomError): { type: string; status: number } {
  const code = error.code;
  if (code === 'resource_not_found' || code === 'resource_path_invalid' || code === 'not_found') return { type: 'InvalidRequestPath', status: 404 };
  if (code === 'release_denied' || code === 'no_release_policy' || code === 'simulated_token_refused') return { type: 'PolicyDeny', status: 403 };
  if (code === 'token_not_found') return { type: 'TokenNotFound', status: 401 };
  if (error instanceof TokenError || code === 'no_tee_pubkey') return { type: 'TokenVerifierError', status: 401 };
  if (code.startsWith('admin_')) return { type: 'AdminAuth', status: 401 };
  if (code === 'policy_invalid' || code === 'release_policy_invalid') return { type: 'ParsePolicyError', status: 401 };
  return { type: 'AttestationError', status: 401 };
}

/** A failure on a KBS route, as trustee answers it. */
export function sendKbsProblem(reply: FastifyReply, error: unknown): FastifyReply {
  if (!(error instanceof ConfcomError) || statusOf(error) === 500) {
    return reply.code(500).send({ type: `${PROBLEM_TYPE_BASE}InternalError`, detail: 'internal error', code: 'internal' });
  }
  const { type, status } = kbsProblemOf(error);
  return reply.code(status).send(body(error, type));
}
