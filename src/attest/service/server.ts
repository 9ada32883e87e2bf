/**
 * The attestation service over HTTP (fastify). Routes:
 *
 *   GET  /health                              {status: "ok", simulator: bool}
 *   GET  /certs, /.well-known/jwks.json        the token signing keys (JWKS), rotated keys included
 *   GET  /.well-known/openid-configuration     {issuer, jwks_uri}
 *   POST /attest/SevSnpVm?api-version=         MAA's form: {report: base64url(JSON {SnpReport, VcekCertChain}),
 *                                              runtimeData, initTimeData?: {data, dataType}, nonce?} -> {token}
 *   POST /keys/{name}[/{version}]/release?api-version=  Key Vault SKR: {target: token, enc?, nonce?} -> {value: JWS}
 *   POST /attest/{snp|sgx|SgxEnclave}          {evidence: {...}, runtimeData: {data, dataType}} -> {token}
 *   POST /release/{repo}/{type}/{tag}          token as Bearer or {"target": token} -> {value: <compact JWE>}
 *   POST /kbs/v0/auth                          {version: "0.4.0", tee, extra-params} -> {nonce, extra-params} + cookie kbs-session-id
 *   POST /kbs/v0/attest                        {runtime-data: {nonce, tee-pubkey}, tee-evidence: {primary_evidence,
 *                                              additional_evidence}, init-data?: {format: "toml", body}} -> {token}
 *   GET  /kbs/v0/token                         {token} of the attested session
 *   GET  /kbs/v0/resource/{repo}/{type}/{tag}  flattened JWE to the tee-pubkey (cookie or Bearer token)
 *   POST /kbs/v0/resource/{repo}/{type}/{tag}  admin (Bearer EdDSA JWT): upload the resource bytes
 *   POST /kbs/v0/resource-policy               admin: {"policy": base64 of a release policy (Azure JSON form)}
 *
 * KBS error bodies are trustee's ErrorInformation {type, detail} (plus code and hint): 401 for
 * attestation, token and admin failures, 403 PolicyDeny, 404 InvalidRequestPath. Other routes: problem
 * details with confcom's code; 400 bad request, 401 not attested, 403 refused, 404 no such resource.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { registerHttpMetrics } from '../../core/http-metrics.js';
import { resourceId } from '../kbs/secrets.js';
import { KbsDeniedError } from '../kbs/errors.js';
import { PROBLEM_TYPE_BASE, sendKbsProblem, sendProblem } from './errors.js';
import { AzureError, sendCloudError } from '../azure/cloud-error.js';
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
  registerHttpMetrics(app);

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      // Body parsing failed before a handler ran: answer in the peer's form (trustee: 401 SerdeError).
      if (request.url.startsWith('/kbs/')) {
        return reply.code(401).send({ type: `${PROBLEM_TYPE_BASE}SerdeError`, detail: `Serialize/Deserialize failed: ${error.message}`, code: 'request_invalid' });
      }
      if (request.url.startsWith('/attest/SevSnpVm') || request.url.startsWith('/keys/')) {
        return reply.code(400).send({ error: { code: request.url.startsWith('/keys/') ? 'BadParameter' : 'InvalidParameter', message: error.message } });
      }
      return reply.code(error.statusCode).send({ type: 'about:blank', code: 'request_invalid', detail: error.message });
    }
    return sendProblem(reply, error);
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ type: 'about:blank', code: 'not_found', detail: 'no such endpoint' }));

  // Each route family answers failures in its peer's form (send).
  const handlerWith =
    (send: (reply: FastifyReply, error: unknown) => FastifyReply) =>
    <R extends FastifyRequest>(fn: (request: R, reply: FastifyReply) => Promise<unknown>) =>
    async (request: R, reply: FastifyReply) => {
      try {
        return await fn(request, reply);
      } catch (error) {
        return send(reply, error);
      }
    };
  const handle = handlerWith(sendProblem);
  const handleKbs = handlerWith(sendKbsProblem);

  app.get('/health', async () => ({ status: 'ok', simulator: service.trustSimulator }));
  const jwks = async () => service.keys.jwks();
  app.get('/certs', jwks);
  app.get('/.well-known/jwks.json', jwks);
  app.get('/.well-known/openid-configuration', async () => ({
    issuer: service.issuer,
    jwks_uri: `${service.issuer.replace(/\/$/, '')}/certs`,
    id_token_signing_alg_values_supported: [service.keys.alg],
  }));

  // Azure's forms: MAA attest and Key Vault key release, errors as CloudError bodies.
  const handleMaa = handlerWith((reply, error) => sendCloudError(reply, error, 'attest'));
  const handleKeyVault = handlerWith((reply, error) => sendCloudError(reply, error, 'release'));
  const apiVersion = (request: FastifyRequest): void => {
    const v = (request.query as Record<string, unknown> | undefined)?.['api-version'];
    if (typeof v !== 'string' || v === '') throw new AzureError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
  };
  app.post(
    '/attest/SevSnpVm',
    handleMaa(async (request) => {
      apiVersion(request);
      const { token } = await service.attestMaa(request.body);
      return { token };
    }),
  );
  const keyRelease = handleKeyVault(async (request: FastifyRequest<{ Params: { name: string; version?: string } }>) => {
    apiVersion(request);
    return { value: await service.releaseKey(request.params.name, request.params.version, request.body) };
  });
  app.post('/keys/:name/release', keyRelease);
  app.post('/keys/:name/:version/release', keyRelease);

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
    handleKbs(async (request, reply) => {
      const session = await service.kbsAuth(request.body);
      setSessionCookie(reply, session.id, (session.expiresAtMs - now()) / 1000);
      return { nonce: session.nonce, 'extra-params': '' };
    }),
  );

  app.post(
    '/kbs/v0/attest',
    handleKbs(async (request, reply) => {
      const result = await service.kbsAttest(cookie(request, SESSION_COOKIE), request.body);
      setSessionCookie(reply, result.session.id, (result.session.expiresAtMs - now()) / 1000);
      return { token: result.token };
    }),
  );

  app.get(
    '/kbs/v0/token',
    handleKbs(async (request) => {
      const session = await service.kbsSession(cookie(request, SESSION_COOKIE));
      if (!session?.token) throw new KbsDeniedError('token_not_found', 'Attestation Token not found (no attested session)', 401);
      return { token: session.token };
    }),
  );

  app.get(
    '/kbs/v0/resource/:repo/:type/:tag',
    handleKbs(async (request: FastifyRequest<{ Params: ResourceParams }>) => {
      const id = resourceId(request.params.repo, request.params.type, request.params.tag);
      return service.kbsResource(cookie(request, SESSION_COOKIE), bearer(request), id);
    }),
  );

  // Admin API (trustee's): resource upload (raw bytes) and resource policy ({"policy": base64}).
  app.addContentTypeParser(['application/octet-stream', 'text/plain'], { parseAs: 'buffer' }, (_request, payload, done) => done(null, payload));
  app.post(
    '/kbs/v0/resource/:repo/:type/:tag',
    handleKbs(async (request: FastifyRequest<{ Params: ResourceParams }>) => {
      await service.kbsAdmin(bearer(request));
      const id = resourceId(request.params.repo, request.params.type, request.params.tag);
      const raw = request.body;
      const value = Buffer.isBuffer(raw) ? raw : typeof raw === 'string' ? Buffer.from(raw) : Buffer.from(JSON.stringify(raw ?? null));
      await service.setResource(id, value);
      return {};
    }),
  );
  app.post(
    '/kbs/v0/resource-policy',
    handleKbs(async (request) => {
      await service.kbsAdmin(bearer(request));
      await service.setResourcePolicy(request.body);
      return {};
    }),
  );

  return { app, service };
}
