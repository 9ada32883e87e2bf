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

const safe = (raw: unknown): string | undefined => (typeof raw === 'string' && raw !== '' ? raw.slice(0, 80).replace(/[^\w./:-]/g, '') : undefined);

/**
 * The peer's error identity: trustee's problem type (the last segment of `type`, e.g. `PolicyDeny`) and
 * the error code (`code`, or CloudError's `error.code`). Never the peer's free text.
 */
function peerError(body: unknown): { type?: string; code?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as Record<string, unknown>;
  const nested = typeof b.error === 'object' && b.error !== null ? (b.error as Record<string, unknown>).code : undefined;
  const type = typeof b.type === 'string' && b.type !== 'about:blank' ? b.type.split('/').pop() : undefined;
  return { type: safe(type), code: safe(b.code ?? nested) };
}

/**
 * Why a request never got an answer: the socket error's code (ECONNREFUSED, ENOTFOUND, ...), else
 * its short message (fetch refuses some ports with "bad port" and no code), else the error's name.
 */
export function unreachableCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string' && cause.code !== '') return cause.code;
  if (typeof cause?.message === 'string' && cause.message !== '') {
    const text = cause.message.slice(0, 80);
    return text === 'bad port' ? 'bad port: fetch refuses to connect to this port' : text;
  }
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out';
  return error instanceof Error ? error.name : 'unknown error';
}

/** A ParsePolicyError's `detail`, printable characters only and bounded. */
function policyParseDetail(body: unknown): string | undefined {
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  if (typeof detail !== 'string') return undefined;
  return detail.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 300).trim() || undefined;
}

const STATUS_CODES: Record<number, string> = { 401: 'unauthorized', 403: 'forbidden', 404: 'not_found' };

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
    throw new GuestFlowError(step, 'peer_unreachable', `the request failed (${unreachableCause(error)})`, { hint: 'check the service URL and that it is reachable from the pod' });
  }
}

/** One HTTP exchange; throws GuestFlowError for non-2xx answers and unreadable bodies. */
export async function exchange(
  fetcher: FetchLike,
  step: GuestStep,
  url: string,
  init: { method: 'GET' | 'POST'; body?: unknown; raw?: Uint8Array; headers?: Record<string, string> },
  timeoutMs = 15_000,
): Promise<HttpResult> {
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.raw !== undefined) headers['content-type'] = 'application/octet-stream';
  const payload = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  let response: Response;
  try {
    response = await fetcher(url, { method: init.method, headers, body: payload, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (error) {
    throw new GuestFlowError(step, 'peer_unreachable', `cannot reach ${new URL(url).origin} (${unreachableCause(error)})`, { hint: 'check the service URL and that it is reachable from the pod' });
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
    const peer = peerError(body);
    // Trustee answers a policy it cannot parse with 401 ParsePolicyError: not an authorization failure
    // but the uploader's own text, so its parse detail (about that text, no secret) is kept for them.
    const parseDetail = peer.type === 'ParsePolicyError' ? policyParseDetail(body) : undefined;
    throw new GuestFlowError(step, peer.type === 'ParsePolicyError' ? 'peer_policy_invalid' : (STATUS_CODES[response.status] ?? 'peer_error'), `the service answered ${response.status}${peer.type ? ` ${peer.type}` : ''}${peer.code ? ` (${peer.code})` : ''}`, {
      status: response.status,
      details: peer.code || peer.type ? { peerCode: peer.code, peerType: peer.type, ...(parseDetail ? { peerDetail: parseDetail } : {}) } : undefined,
    });
  }
  if (text !== '' && body === undefined) throw new GuestFlowError(step, 'peer_response_invalid', `the service answered ${response.status} with a body that is not JSON`, { status: response.status });
  return { status: response.status, body, headers: response.headers };
}

export function objectBody(step: GuestStep, body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new GuestFlowError(step, 'peer_response_invalid', 'the service answered with no JSON object');
  return body as Record<string, unknown>;
}
