/**
 * The guest's HTTP calls: JSON in and out, a per-call timeout, retries with exponential backoff
 * (p-retry) on network failures, 429 and 5xx, and no retry on other 4xx (the peer said no). Failures
 * become GuestFlowErrors naming the step; a peer's error body contributes only its `code`/`type`
 * field and status, never its text (which might echo request material), and request bodies, cookies
 * and tokens are never put in an error.
 */
import pRetry, { AbortError } from 'p-retry';
import { GuestFlowError, type GuestStep } from './errors.js';

export interface RetryOptions {
  /** Retries after the first attempt (default 4). */
  retries?: number;
  /** First backoff in ms (default 200), doubled each retry up to maxTimeoutMs (default 5000). */
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  /** Per-request timeout (default 15000 ms). */
  timeoutMs?: number;
}

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface HttpResult {
  status: number;
  body: unknown;
  headers: Headers;
}

const RETRY_STATUS = (status: number) => status === 429 || status >= 500;

/** The peer's error code, from problem-details (`code`, `type`), CloudError (`error.code`) or trustee bodies. */
function peerCode(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const nested = typeof b.error === 'object' && b.error !== null ? (b.error as Record<string, unknown>).code : undefined;
  const raw = b.code ?? nested ?? b.type;
  return typeof raw === 'string' ? raw.slice(0, 80).replace(/[^\w./:-]/g, '') : undefined;
}

export async function retrying<T>(step: GuestStep, options: RetryOptions, attempt: () => Promise<T>): Promise<T> {
  try {
    return await pRetry(attempt, {
      retries: options.retries ?? 4,
      minTimeout: options.minTimeoutMs ?? 200,
      maxTimeout: options.maxTimeoutMs ?? 5000,
      factor: 2,
      shouldRetry: ({ error }) => !(error instanceof GuestFlowError && error.status !== undefined && !RETRY_STATUS(error.status)),
    });
  } catch (error) {
    if (error instanceof GuestFlowError) throw error;
    if (error instanceof AbortError && error.originalError instanceof GuestFlowError) throw error.originalError;
    throw new GuestFlowError(step, 'peer_unreachable', `the request failed: ${(error as Error).name}`, { hint: 'check the service URL and that it is reachable from the pod' });
  }
}

/** One HTTP exchange; throws GuestFlowError for non-2xx answers and unreadable bodies. */
export async function exchange(
  fetcher: FetchLike,
  step: GuestStep,
  url: string,
  init: { method: 'GET' | 'POST'; body?: unknown; headers?: Record<string, string> },
  timeoutMs = 15_000,
): Promise<HttpResult> {
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetcher(url, { method: init.method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body), signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new GuestFlowError(step, 'peer_unreachable', `cannot reach ${new URL(url).origin} (${cause})`, { hint: 'check the service URL and that it is reachable from the pod' });
  }
  const text = await response.text();
  let body: unknown = undefined;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (!response.ok) {
    const code = peerCode(body);
    throw new GuestFlowError(step, response.status === 401 ? 'unauthorized' : response.status === 403 ? 'forbidden' : response.status === 404 ? 'not_found' : 'peer_error', `the service answered ${response.status}${code ? ` (${code})` : ''}`, {
      status: response.status,
      details: code ? { peerCode: code } : undefined,
    });
  }
  if (text !== '' && body === undefined) throw new GuestFlowError(step, 'peer_response_invalid', `the service answered ${response.status} with a body that is not JSON`, { status: response.status });
  return { status: response.status, body, headers: response.headers };
}

export function objectBody(step: GuestStep, body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new GuestFlowError(step, 'peer_response_invalid', 'the service answered with no JSON object');
  return body as Record<string, unknown>;
}
