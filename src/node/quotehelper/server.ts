/**
 * The quote helper's AESM protocol server on a unix socket (by default `/var/run/aesmd/aesm.socket`, the
 * path Intel's `libsgx-quote-ex` dials when `SGX_AESM_ADDR` is set). One request per connection, as
 * Intel's client sends them. Bounded: frame size, time to send a frame, time to answer, concurrent
 * clients. A malformed frame closes its connection; a well-formed request with bad parameters gets
 * Intel's error code; neither ever stops the server.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createLogger, type Logger } from '../../core/log.js';
import type { NodeMetrics } from '../metrics.js';
import { AesmFailure, type QuoteBackend } from './backend.js';
import { FrameError, readFrame } from './frame.js';
import { AesmError, decodeRequest, encodeResponse, frame, requestKind, type AesmRequest } from './messages.js';

export interface AesmServerOptions {
  socket: string;
  backend: QuoteBackend;
  /** Largest request accepted (default 64 KiB; a real GetQuoteEx request is under 2 KiB). */
  maxMessageBytes?: number;
  /** Time a client has to send its whole frame (default 10 s). */
  readTimeoutMs?: number;
  /** Time the backend has to answer (default 60 s: a first quote may fetch PCK certificates). */
  requestTimeoutMs?: number;
  /** Concurrent connections; more are refused at accept (default 32). */
  maxClients?: number;
  /** Socket file mode (default 0o666: enclave apps connect under any user ID). */
  socketMode?: number;
  log?: Logger;
  metrics?: NodeMetrics;
}

export class AesmServer {
  private server: Server | undefined;
  private readonly log: Logger;
  private readonly sockets = new Set<Socket>();
  /** Counters for /healthz and tests. */
  readonly stats = { answered: 0, malformed: 0, failed: 0 };

  constructor(private readonly options: AesmServerOptions) {
    this.log = options.log ?? createLogger({ level: 'silent' });
  }

  async start(): Promise<void> {
    try {
      unlinkSync(this.options.socket); // a stale socket from an earlier run would make listen fail
    } catch {
      // none there
    }
    // Half-open allowed: a client that shuts down its sending side after the request still gets the answer.
    const server = createServer({ allowHalfOpen: true }, (socket) => this.serve(socket));
    server.maxConnections = this.options.maxClients ?? 32;
    server.on('error', (error) => this.log.error('quote helper: server error', { error: error.message }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.socket, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(this.options.socket, this.options.socketMode ?? 0o666);
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.options.backend.close?.();
  }

  private malformed(socket: Socket, why: string): void {
    this.stats.malformed++;
    this.options.metrics?.errors.inc({ component: 'quote-helper', kind: 'malformed' });
    this.log.debug('quote helper: dropped a malformed request', { why });
    socket.destroy();
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined); // a client that vanishes is its own problem
    readFrame(socket, { maxBytes: this.options.maxMessageBytes ?? 64 << 10, timeoutMs: this.options.readTimeoutMs ?? 10_000 }).then(
      (raw) => this.answer(socket, raw),
      (error: FrameError) => this.malformed(socket, error.message),
    );
  }

  private async answer(socket: Socket, raw: Buffer): Promise<void> {
    let request: AesmRequest;
    try {
      request = decodeRequest(raw);
    } catch (error) {
      return this.malformed(socket, (error as Error).message);
    }
    const kind = requestKind(request);
    if (!kind) return this.malformed(socket, 'no single request kind we serve');
    const backend = this.options.backend;
    let response: Buffer;
    let code: number = AesmError.SUCCESS;
    try {
      response = await backend.answer(kind, request, raw, AbortSignal.timeout(this.options.requestTimeoutMs ?? 60_000));
    } catch (error) {
      code = error instanceof AesmFailure ? error.aesmCode : AesmError.UNEXPECTED_ERROR;
      this.stats.failed++;
      this.options.metrics?.errors.inc({ component: 'quote-helper', kind: 'request' });
      this.log.warn('quote helper: request failed', { request: kind, code, error: (error as Error).message });
      response = encodeResponse(kind, { errorCode: code });
    }
    this.stats.answered++;
    this.options.metrics?.quotes.inc({ request: kind, backend: backend.name, code: String(code) });
    if (!socket.destroyed) socket.end(frame(response));
  }
}
