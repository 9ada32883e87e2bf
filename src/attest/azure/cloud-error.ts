/**
 * Azure's error bodies: `{"error": {"code", "message", "innererror"?: {"code"}}}` (MAA and Key Vault
 * both answer this way). Messages never carry secrets or tokens.
 */
import type { FastifyReply } from 'fastify';
import { ConfcomError, ExitCode } from '../../core/errors.js';
import { TokenError } from '../token/errors.js';
import { KbsDeniedError } from '../kbs/errors.js';

export class AzureError extends ConfcomError {
  constructor(
    readonly status: number,
    readonly azureCode: string,
    message: string,
    readonly innerCode?: string,
  ) {
    super(`azure_${azureCode}`, message, { exitCode: status >= 500 ? ExitCode.Internal : status === 400 ? ExitCode.BadInput : ExitCode.CheckFailed });
  }
}

/** Maps our failures onto Azure's codes for MAA (`attest`) or Key Vault (`release`). */
export function toAzureError(error: unknown, api: 'attest' | 'release'): AzureError {
  if (error instanceof AzureError) return error;
  if (!(error instanceof ConfcomError)) return new AzureError(500, 'InternalError', 'internal error');
  if (api === 'release') {
    if (error.code === 'resource_not_found') return new AzureError(404, 'KeyNotFound', error.message);
    if (error instanceof TokenError || error.code === 'token_not_found') return new AzureError(400, 'BadParameter', `target: ${error.message}`, 'AccessDenied');
    if (error instanceof KbsDeniedError || error.exitCode === ExitCode.CheckFailed) return new AzureError(403, 'Forbidden', error.message, 'AccessDenied');
    return new AzureError(400, 'BadParameter', error.message);
  }
  if (error.exitCode === ExitCode.BadInput) return new AzureError(400, 'InvalidParameter', error.message);
  return new AzureError(400, 'AttestationFailure', error.message, error.code);
}

export function sendCloudError(reply: FastifyReply, error: unknown, api: 'attest' | 'release'): FastifyReply {
  const e = toAzureError(error, api);
  const body: { error: { code: string; message: string; innererror?: { code: string } } } = { error: { code: e.azureCode, message: e.message } };
  if (e.innerCode) body.error.innererror = { code: e.innerCode };
  return reply.code(e.status).send(body);
}
