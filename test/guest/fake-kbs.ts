/**
 * A small KBS written in the test from trustee's protocol document (not from src/attest): /auth issues a
 * nonce and a kbs-session-id cookie; /attest takes {runtime-data: {nonce, tee-pubkey}, tee-evidence:
 * {primary_evidence, additional_evidence}}, checks that REPORT_DATA = SHA-384 of the JCS form (RFC 8785:
 * sorted keys, no whitespace) of the runtime data trustee's KBS hands its verifier, {nonce, tee-pubkey,
 * additional-evidence} (the last from tee-evidence.additional_evidence), and that the report verifies on the simulated
 * chain; /resource answers a flattened JWE to tee-pubkey. Knobs inject failures.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { FlattenedEncrypt, importJWK, type JWK } from 'jose';
import { verifySnpReport } from '../../src/attest/verify.js';

/** RFC 8785 for the plain JSON the runtime data holds (strings and objects). */
export function jcs(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(jcs).join(',')}]`;
  return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${jcs((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

export interface FakeKbs {
  url: string;
  secrets: Map<string, Buffer>;
  /** Requests seen, path + body (bodies hold only public material). */
  seen: { path: string; body: unknown; cookie?: string }[];
  /** Answer the next N requests to this path with 503. */
  failNext: Map<string, number>;
  /** Forget every session (a KBS restart): the next resource request gets 401. */
  dropSessions(): void;
  /** Encrypt resources to this key instead of the session's (a broken or malicious KBS). */
  wrongKey?: JWK;
  close(): Promise<void>;
}

interface Session {
  nonce: string;
  tee: string;
  pubkey?: JWK;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of request) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

export async function startFakeKbs(): Promise<FakeKbs> {
  const sessions = new Map<string, Session>();
  const fake: FakeKbs = {
    url: '',
    secrets: new Map(),
    seen: [],
    failNext: new Map(),
    dropSessions: () => sessions.clear(),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://x');
      const body = await readJson(request);
      const cookie = /kbs-session-id=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
      fake.seen.push({ path: url.pathname, body, cookie });
      const send = (status: number, value?: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(value === undefined ? '' : JSON.stringify(value));
      };
      const failures = fake.failNext.get(url.pathname) ?? 0;
      if (failures > 0) {
        fake.failNext.set(url.pathname, failures - 1);
        return send(503, { type: 'about:blank', detail: 'busy' });
      }
      if (request.method === 'POST' && url.pathname === '/kbs/v0/auth') {
        const b = body as { version: string; tee: string };
        if (b.version !== '0.4.0') return send(400, { type: 'https://github.com/confidential-containers/kbs/errors/ProtocolVersion' });
        const id = randomBytes(16).toString('hex');
        const nonce = randomBytes(32).toString('base64');
        sessions.set(id, { nonce, tee: b.tee });
        return send(200, { nonce, 'extra-params': '' }, { 'set-cookie': `kbs-session-id=${id}; Path=/kbs; HttpOnly` });
      }
      if (request.method === 'POST' && url.pathname === '/kbs/v0/attest') {
        const session = cookie ? sessions.get(cookie) : undefined;
        if (!session) return send(401, { type: 'https://github.com/confidential-containers/kbs/errors/UnAuthenticated' });
        const b = body as { 'runtime-data': { nonce: string; 'tee-pubkey': JWK }; 'tee-evidence': { primary_evidence: { report: string; certs: string[] }; additional_evidence?: string } };
        const runtime = b['runtime-data'];
        if (runtime.nonce !== session.nonce) return send(401, { type: 'https://github.com/confidential-containers/kbs/errors/AttestationFailed' });
        const evidence = b['tee-evidence'].primary_evidence;
        const claims = await verifySnpReport(Buffer.from(evidence.report, 'base64'), { certs: evidence.certs.map((c) => Buffer.from(c, 'base64')), trustSimulator: true }).catch(() => undefined);
        const expected = Buffer.alloc(64);
        createHash('sha384').update(jcs({ ...runtime, 'additional-evidence': b['tee-evidence'].additional_evidence ?? '' })).digest().copy(expected);
        if (!claims || claims.reportData !== expected.toString('hex')) return send(401, { type: 'https://github.com/confidential-containers/kbs/errors/AttestationFailed' });
        session.nonce = ''; // single use
        session.pubkey = runtime['tee-pubkey'];
        return send(200, { token: `fake.${randomBytes(8).toString('hex')}.token` }, { 'set-cookie': `kbs-session-id=${cookie}; Path=/kbs; HttpOnly` });
      }
      const resource = /^\/kbs\/v0\/resource\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      if (request.method === 'GET' && resource) {
        const session = cookie ? sessions.get(cookie) : undefined;
        if (!session?.pubkey) return send(401, { type: 'https://github.com/confidential-containers/kbs/errors/UnAuthenticated' });
        const secret = fake.secrets.get(resource.slice(1).join('/'));
        if (!secret) return send(404, { type: 'https://github.com/confidential-containers/kbs/errors/ResourceNotFound' });
        const to = fake.wrongKey ?? session.pubkey;
        const key = await importJWK({ kty: to.kty, crv: to.crv, x: to.x, y: to.y, n: to.n, e: to.e } as JWK, to.alg);
        const jwe = await new FlattenedEncrypt(secret).setProtectedHeader({ alg: to.alg as string, enc: 'A256GCM' }).encrypt(key);
        return send(200, jwe);
      }
      return send(404, { type: 'about:blank' });
    })().catch(() => {
      response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  fake.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return fake;
}
