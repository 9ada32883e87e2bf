/**
 * The `forward` backend, the production path: each request goes unchanged to the node's real aesmd
 * (Intel's AESM with its QE and PCE) on its own connection, and its answer comes back unchanged, bounded
 * in size and time. An aesmd that cannot be reached is AESM_SERVICE_UNAVAILABLE for the client.
 */
import { connect } from 'node:net';
import { AesmFailure, type QuoteBackend } from './backend.js';
import { readFrame } from './frame.js';
import { AesmError, frame, type AesmRequest, type RequestKind } from './messages.js';

export interface ForwardOptions {
  aesmdSocket: string;
  timeoutMs?: number;
  maxResponseBytes?: number;
}

export class ForwardQuoteBackend implements QuoteBackend {
  readonly name = 'forward';
  constructor(private readonly options: ForwardOptions) {}

  answer(_kind: RequestKind, _request: AesmRequest, raw: Buffer, signal: AbortSignal): Promise<Buffer> {
    const timeoutMs = this.options.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const upstream = connect(this.options.aesmdSocket);
      const fail = (message: string) => {
        upstream.destroy();
        reject(new AesmFailure(AesmError.SERVICE_UNAVAILABLE, message));
      };
      const onAbort = () => fail('request timed out');
      signal.addEventListener('abort', onAbort, { once: true });
      upstream.once('error', (error) => fail(`aesmd at ${this.options.aesmdSocket}: ${error.message}`));
      upstream.once('connect', () => {
        upstream.write(frame(raw));
        readFrame(upstream, { maxBytes: this.options.maxResponseBytes ?? 1 << 20, timeoutMs }).then(
          (message) => {
            signal.removeEventListener('abort', onAbort);
            upstream.destroy();
            resolve(message);
          },
          (error: Error) => fail(`aesmd answer: ${error.message}`),
        );
      });
    });
  }
}
