/** One GET against a collateral source (Intel PCS/PCCS, AMD KDS), with a timeout and typed failures. */
import { AttestationError } from '../claims.js';

export interface HttpResult {
  body: Buffer;
  headers: Headers;
}

export async function get(url: string, timeoutMs = 10_000): Promise<HttpResult> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new AttestationError('collateral_unreachable', `cannot fetch ${url}: ${(error as Error).message}`, {
      cause: error,
      hint: 'check the PCS/PCCS or KDS URL and the network; cached collateral is used while it is valid',
    });
  }
  const body = Buffer.from(await response.arrayBuffer());
  if (!response.ok) {
    throw new AttestationError('collateral_fetch_failed', `${url} answered ${response.status}`, { hint: 'check the FMSPC / chip and TCB the request names' });
  }
  return { body, headers: response.headers };
}

/** An issuer chain header (PCS sends it URL-encoded PEM). */
export function chainHeader(result: HttpResult, name: string, url: string): string {
  const value = result.headers.get(name);
  if (!value) throw new AttestationError('collateral_fetch_failed', `${url} sent no ${name} header`);
  return decodeURIComponent(value);
}
