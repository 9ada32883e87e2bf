/**
 * The guest agent's errors. Every failure names the step that failed (`evidence`, `kbs/auth`,
 * `kbs/attest`, `kbs/resource`, `kbs/admin`, `maa/attest`, `key/release`, `decrypt`, `write`) so an operator can
 * tell a TEE problem from a network or policy one. Messages never carry secret material, tokens or
 * session cookies: only step names, status codes and the peer's error code.
 */
import { ConfcomError, ExitCode, type ConfcomErrorOptions } from '../core/errors.js';

export type GuestStep =
  | 'evidence'
  | 'kbs/auth'
  | 'kbs/attest'
  | 'kbs/resource'
  | 'kbs/admin'
  | 'maa/attest'
  | 'key/release'
  | 'decrypt'
  | 'write';

/** A step of the attestation flow failed (exit 1: the peer or the TEE said no, or was unreachable). */
export class GuestFlowError extends ConfcomError {
  constructor(
    readonly step: GuestStep,
    code: string,
    message: string,
    options: Omit<ConfcomErrorOptions, 'exitCode'> & { status?: number } = {},
  ) {
    super(code, `${step}: ${message}`, { ...options, exitCode: ExitCode.CheckFailed, details: { ...options.details, step, ...(options.status === undefined ? {} : { status: options.status }) } });
    this.status = options.status;
  }
  readonly status?: number;
}

/** The TEE interface is missing or answered in a way we cannot use (exit 1, step `evidence`). */
export class EvidenceError extends GuestFlowError {
  constructor(code: string, message: string, options: Omit<ConfcomErrorOptions, 'exitCode'> = {}) {
    super('evidence', code, message, options);
  }
}
