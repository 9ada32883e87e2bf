/**
 * HTTP for registry pulls: a connect timeout (until the response headers arrive), a read timeout (no
 * bytes for that long while a body streams), and retries with exponential backoff (p-retry) on 5xx,
 * 429, connection resets and timeouts. A refused connection or an unknown host fails at once: those
 * do not heal in seconds, and the user should read the hint instead of waiting.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import pRetry from 'p-retry';

export interface HttpPolicy {
  /** Milliseconds until the response headers must have arrived (connecting included). */
  connectTimeoutMs: number;
  /** Milliseconds a body may go without a byte. */
  readTimeoutMs: number;
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff; each retry doubles it (with jitter). */
  minBackoffMs: number;
}

export const DEFAULT_HTTP_POLICY: HttpPolicy = { connectTimeoutMs: 30_000, readTimeoutMs: 60_000, retries: 4, minBackoffMs: 500 };

/** Why a request did not produce a response, in words for the user. */
export class HttpFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const RETRYABLE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'EAI_AGAIN', 'ECONNABORTED']);

function describe(cause: unknown, timedOut: boolean, policy: HttpPolicy): HttpFailure {
  if (timedOut) return new HttpFailure(`no answer within ${policy.connectTimeoutMs / 1000} s`, true, 1, { cause });
  const inner = cause instanceof Error && cause.cause instanceof Error ? cause.cause : cause;
  const code = (inner as NodeJS.ErrnoException | undefined)?.code;
  const text = inner instanceof Error ? inner.message : String(inner);
  return new HttpFailure(text, code !== undefined && RETRYABLE_CODES.has(code), 1, { cause });
}

async function fetchOnce(url: string | URL, init: RequestInit, policy: HttpPolicy, signal: AbortSignal | undefined): Promise<{ response: Response; controller: AbortController }> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, policy.connectTimeoutMs);
  try {
    const response = await fetch(url, { ...init, signal: controller.signal });
    return { response, controller };
  } catch (cause) {
    signal?.throwIfAborted();
    throw describe(cause, timedOut, policy);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * GET with timeouts and retries. A 5xx or 429 is retried; on the last attempt it is returned as it is,
 * so the caller reports the status. Network failures that outlive the retries throw `HttpFailure`.
 */
export async function fetchWithRetry(url: string | URL, init: RequestInit, policy: HttpPolicy, signal?: AbortSignal): Promise<GuardedResponse> {
  let attempts = 0;
  try {
    return await pRetry(
      async (attempt) => {
        attempts = attempt;
        const { response, controller } = await fetchOnce(url, init, policy, signal);
        if ((response.status >= 500 || response.status === 429) && attempt <= policy.retries) {
          await response.body?.cancel();
          throw new HttpFailure(`HTTP ${response.status}`, true, attempt);
        }
        return withReadTimeout(response, controller, policy.readTimeoutMs);
      },
      {
        retries: policy.retries,
        minTimeout: policy.minBackoffMs,
        factor: 2,
        randomize: true,
        signal,
        shouldRetry: ({ error }) => error instanceof HttpFailure && error.retryable,
      },
    );
  } catch (error) {
    if (error instanceof HttpFailure) throw new HttpFailure(error.message, error.retryable, attempts, { cause: error.cause });
    throw error;
  }
}

/** A response whose body is read through `stream()`, which fails when no byte arrives for too long. */
export type GuardedResponse = Response & { stream(): AsyncIterable<Uint8Array> };

function withReadTimeout(response: Response, controller: AbortController, ms: number): GuardedResponse {
  async function* guarded(): AsyncGenerator<Uint8Array> {
    if (!response.body) return;
    const timer = setTimeout(() => controller.abort(new HttpFailure(`no data for ${ms / 1000} s while reading`, true, 1)), ms);
    try {
      for await (const chunk of Readable.fromWeb(response.body as WebReadableStream<Uint8Array>)) {
        timer.refresh();
        yield chunk as Uint8Array;
        timer.refresh(); // the consumer's own work does not count as the server's silence
      }
    } catch (error) {
      const reason: unknown = controller.signal.reason;
      throw reason instanceof HttpFailure ? reason : error;
    } finally {
      clearTimeout(timer);
    }
  }
  return Object.assign(response, { stream: guarded });
}
