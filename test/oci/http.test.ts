/** Timeouts and retries of registry HTTP against fake failing servers on loopback. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchWithRetry, HttpFailure, type HttpPolicy } from '../../src/oci/http.js';

const FAST: HttpPolicy = { connectTimeoutMs: 300, readTimeoutMs: 300, retries: 3, minBackoffMs: 10 };

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A server whose n-th request (1-based) is answered by `handler`; returns its URL and a hit counter. */
async function serve(handler: (n: number, req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  server = createServer((req, res) => handler(++hits, req, res));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/v2/x`, hits: () => hits };
}

async function text(response: Awaited<ReturnType<typeof fetchWithRetry>>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of response.stream()) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

describe('fetchWithRetry', () => {
  it('retries 5xx with backoff and returns the first good answer', async () => {
    const s = await serve((n, _req, res) => {
      res.statusCode = n <= 2 ? 503 : 200;
      res.end(n <= 2 ? 'busy' : 'ok');
    });
    const r = await fetchWithRetry(s.url, {}, FAST);
    expect(r.status).toBe(200);
    expect(await text(r)).toBe('ok');
    expect(s.hits()).toBe(3);
  });

  it('retries a connection reset', async () => {
    const s = await serve((n, req, res) => {
      if (n === 1) req.socket.destroy();
      else res.end('after reset');
    });
    const r = await fetchWithRetry(s.url, {}, FAST);
    expect(await text(r)).toBe('after reset');
    expect(s.hits()).toBe(2);
  });

  it('hands back the last 5xx once the retries are spent', async () => {
    const s = await serve((_n, _req, res) => {
      res.statusCode = 500;
      res.end();
    });
    const r = await fetchWithRetry(s.url, {}, FAST);
    expect(r.status).toBe(500);
    expect(s.hits()).toBe(FAST.retries + 1);
  });

  it('times out a server that never answers, retrying, then fails naming the timeout', async () => {
    const s = await serve(() => undefined);
    const error = await fetchWithRetry(s.url, {}, { ...FAST, connectTimeoutMs: 100, retries: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpFailure);
    expect((error as HttpFailure).message).toBe('no answer within 0.1 s');
    expect((error as HttpFailure).attempts).toBe(2);
    expect(s.hits()).toBe(2);
  });

  it('fails a body that stalls longer than the read timeout', async () => {
    const s = await serve((_n, _req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
    });
    const r = await fetchWithRetry(s.url, {}, { ...FAST, readTimeoutMs: 150 });
    await expect(text(r)).rejects.toThrow('no data for 0.15 s while reading');
  });

  it('does not retry a refused connection', async () => {
    const s = await serve((_n, _req, res) => res.end());
    const url = s.url;
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const started = Date.now();
    const error = await fetchWithRetry(url, {}, { ...FAST, minBackoffMs: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpFailure);
    expect((error as HttpFailure).attempts).toBe(1);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
