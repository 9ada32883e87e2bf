/** What a quote-helper backend does: answer one decoded AESM request with encoded Response bytes. */
import type { AesmRequest, RequestKind } from './messages.js';

export interface QuoteBackend {
  /** `sim` or `forward`, for metrics and logs. */
  readonly name: string;
  /** Answers one request; `raw` is the request as the client sent it (forward passes it on unchanged). */
  answer(kind: RequestKind, request: AesmRequest, raw: Buffer, signal: AbortSignal): Promise<Buffer>;
  close?(): Promise<void>;
}

/** A failure that the server reports to the client as this AESM error code in the right Response field. */
export class AesmFailure extends Error {
  constructor(readonly aesmCode: number, message: string) {
    super(message);
    this.name = 'AesmFailure';
  }
}
