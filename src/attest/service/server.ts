/**
 * The attestation service over HTTP (fastify). Routes:
 *
 *   GET  /health                              {status: "ok", simulator: bool}
 *   GET  /certs, /.well-known/jwks.json        the token signing keys (JWKS), rotated keys included
 *   GET  /.well-known/openid-configuration     {issuer, jwks_uri}
 *   POST /attest/{snp|sgx|SevSnpVm|SgxEnclave} {evidence: {...}, runtimeData: {data, dataType}} -> {token}
 *   POST /release/{repo}/{type}/{tag}          token as Bearer or {"target": token} -> {value: <compact JWE>}
 *   POST /kbs/v0/auth                          {version, tee, extra-params} -> {nonce, extra-params} + session cookie
 *   POST /kbs/v0/attest                        {tee-pubkey, tee-evidence} -> {token} (cookie: kbs-session-id)
 *   GET  /kbs/v0/token                         {token} of the attested session
 *   GET  /kbs/v0/resource/{repo}/{type}/{tag}  flattened JWE to the tee-pubkey (cookie or Bearer token)
 *
 * Error bodies are problem details ({type, detail} plus code and hint); statuses: 400 bad request, 401
 * not attested (failed evidence, nonce, token), 403 refused by a release policy, 404 no such resource.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { resourceId } from '../kbs/secrets.js';
import { sendProblem } from './errors.js';
import { AttestationService } from './service.js';
import type { AttestationServiceOptions } from './options.js';

export const SESSION_COOKIE = 'kbs-session-id';

function cookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match ? match[1] : undefined;
}

function setSessionCookie(reply: FastifyReply, id: string, maxAgeSeconds: number): void {
  reply.header('set-cookie', `${SESSION_COOKIE}=${id}; Path=/kbs; HttpOnly; SameSite=Strict; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`);
}

type ResourceParams = { repo: string; type: string; tag: string };

export interface AttestationServer {
  app: FastifyInstance;
  service: AttestationService;
}

export async function createAttestationServer(options: AttestationServiceOptions): Promise<AttestationServer> {
  const service = await AttestationService.create(options);
  const now = options.now ?? Date.now;
  const app = Fastify({ logger: false, bodyLimit: options.maxBodyBytes ?? 1024 * 1024 });

  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ type: 'about:blank', code: 'request_invalid', detail: error.message });
    }
    return sendProblem(reply, error);
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ type: 'about:blank', code: 'not_found', detail: 'no such endpoint' }));

  const handle =
    <R extends FastifyRequest>(fn: (request: R, reply: FastifyReply) => Promise<unknown>) =>
    async (request: R, reply: FastifyReply) => {
      try {
        return await fn(request, reply);
      } catch (error) {
        return sendProblem(reply, error);
      }
    };

  app.get('/health', async () => ({ status: 'ok', simulator: service.trustSimulator }));
  const jwks = async () => service.keys.jwks();
  app.get('/certs', jwks);
  app.get('/.well-known/jwks.json', jwks);
  app.get('/.well-known/openid-configuration', async () => ({
    issuer: service.issuer,
    jwks_uri: `${service.issuer.replace(/\/$/, '')}/certs`,
    id_token_signing_alg_values_supported: [service.keys.alg],
  }));

  app.post(
    '/attest/:tee',
    handle(async (request: FastifyRequest<{ Params: { tee: string } }>) => {
      const tee = { SevSnpVm: 'snp', SgxEnclave: 'sgx' }[request.params.tee] ?? request.params.tee;
      const { token } = await service.attestWithRuntimeData(tee, request.body);
      return { token };
    }),
  );

  app.post(
    '/release/:repo/:type/:tag',
    handle(async (request: FastifyRequest<{ Params: ResourceParams; Body: unknown }>) => {
      const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as { target?: unknown; kid?: unknown };
      const token = bearer(request) ?? (typeof body.target === 'string' ? body.target : undefined);
      const id = resourceId(request.params.repo, request.params.type, request.params.tag);
      const value = await service.release(token, id, typeof body.kid === 'string' ? body.kid : undefined);
      return { value };
    }),
  );

  app.post(
    '/kbs/v0/auth',
    handle(async (request, reply) => {
      const session = service.kbsAuth(request.body);
      setSessionCookie(reply, session.id, 3600);
      return { nonce: session.nonce, 'extra-params': '' };
    }),
  );

  app.post(
    '/kbs/v0/attest',
    handle(async (request, reply) => {
      const result = await service.kbsAttest(cookie(request, SESSION_COOKIE), request.body);
      setSessionCookie(reply, result.session.id, (result.expiresAtMs - now()) / 1000);
      return { token: result.token };
    }),
  );

  app.get(
    '/kbs/v0/token',
    handle(async (request, reply) => {
      const session = service.sessions.authenticated(cookie(request, SESSION_COOKIE));
      if (!session?.token) return reply.code(401).send({ type: 'about:blank', code: 'unauthenticated', detail: 'no attested session' });
      return { token: session.token };
    }),
  );

  app.get(
    '/kbs/v0/resource/:repo/:type/:tag',
    handle(async (request: FastifyRequest<{ Params: ResourceParams }>) => {
      const id = resourceId(request.params.repo, request.params.type, request.params.tag);
      return service.kbsResource(cookie(request, SESSION_COOKIE), bearer(request), id);
    }),
  );

  return { app, service };
}
