/** A blob whose connection drops mid-stream is resumed with a Range request (or re-read and skipped), and gives up after the retries. */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../src/oci/credentials.js';
import { RegistrySource } from '../../src/oci/registry.js';

const BLOB = randomBytes(3 << 20);
const DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}`;

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A registry serving BLOB; `handler` answers the n-th blob request (1-based) and sees its Range header. */
async function registry(handler: (n: number, range: string | undefined, req: IncomingMessage, res: ServerResponse) => void): Promise<{ source: RegistrySource; ranges: (string | undefined)[] }> {
  const ranges: (string | undefined)[] = [];
  server = createServer((req, res) => {
    ranges.push(req.headers.range);
    handler(ranges.length, req.headers.range, req, res);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const source = new RegistrySource(`127.0.0.1:${port}`, 'app', new CredentialStore({ dockerConfigFile: undefined, pullSecrets: [] }), {
    insecure: true,
    http: { connectTimeoutMs: 2000, readTimeoutMs: 300, retries: 3, minBackoffMs: 5 },
  });
  return { source, ranges };
}

/** Sends `bytes` with a length header for the whole, then cuts the connection. */
function cutAfter(res: ServerResponse, bytes: Buffer, total: number, status = 200, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-length': String(total), ...headers });
  res.write(bytes, () => setTimeout(() => res.socket?.destroy(), 20));
}

async function read(source: RegistrySource): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of await source.blob('app', DIGEST)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const rangeStart = (range: string | undefined): number => Number(/^bytes=(\d+)-$/.exec(range ?? '')?.[1] ?? NaN);

describe('blob fetch failing mid-stream', () => {
  it('resumes from the byte it stopped at with a Range request (206)', async () => {
    const { source, ranges } = await registry((n, range, _req, res) => {
      if (n === 1) return cutAfter(res, BLOB.subarray(0, 1 << 20), BLOB.length);
      if (n === 2) {
        const from = rangeStart(range);
        return cutAfter(res, BLOB.subarray(from, from + (512 << 10)), BLOB.length - from, 206, { 'content-range': `bytes ${from}-${BLOB.length - 1}/${BLOB.length}` });
      }
      const from = rangeStart(range);
      res.writeHead(206, { 'content-length': String(BLOB.length - from), 'content-range': `bytes ${from}-${BLOB.length - 1}/${BLOB.length}` });
      res.end(BLOB.subarray(from));
    });
    const got = await read(source);
    expect(got.equals(BLOB)).toBe(true);
    expect(ranges[0]).toBeUndefined();
    expect(rangeStart(ranges[1])).toBeGreaterThan(0);
    expect(rangeStart(ranges[2])).toBeGreaterThan(rangeStart(ranges[1]));
  });

  it('skips what it already has when the registry ignores the range (200)', async () => {
    const { source, ranges } = await registry((n, _range, _req, res) => {
      if (n === 1) return cutAfter(res, BLOB.subarray(0, 1 << 20), BLOB.length);
      res.writeHead(200, { 'content-length': String(BLOB.length) });
      res.end(BLOB);
    });
    const got = await read(source);
    expect(got.length).toBe(BLOB.length);
    expect(createHash('sha256').update(got).digest('hex')).toBe(DIGEST.slice(7));
    expect(ranges).toHaveLength(2);
  });

  it('resumes after a stall (read timeout) too', async () => {
    const { source } = await registry((n, range, _req, res) => {
      if (n === 1) {
        res.writeHead(200, { 'content-length': String(BLOB.length) });
        return void res.write(BLOB.subarray(0, 4096)); // then silence
      }
      const from = rangeStart(range);
      res.writeHead(206, { 'content-length': String(BLOB.length - from) });
      res.end(BLOB.subarray(from));
    });
    expect((await read(source)).equals(BLOB)).toBe(true);
  });

  it('fails naming the blob once the retries are spent', async () => {
    const { source, ranges } = await registry((_n, range, _req, res) => {
      const from = Number.isNaN(rangeStart(range)) ? 0 : rangeStart(range);
      cutAfter(res, BLOB.subarray(from, from + 1000), BLOB.length - from, from === 0 ? 200 : 206);
    });
    await expect(read(source)).rejects.toThrow(`stopped sending ${DIGEST}`);
    expect(ranges).toHaveLength(4); // the first request and 3 resumes
  });
});
