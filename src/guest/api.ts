/**
 * The local API a workload calls on 127.0.0.1 (fastify), in the shapes of the two sidecars it stands in for:
 *
 *   GET  /cdh/resource/{repo}/{type}/{tag}   CoCo's confidential-data-hub: the plaintext bytes
 *   POST /attest/maa   {maa_endpoint, runtime_data?}               SKR sidecar: {token}
 *   POST /key/release  {maa_endpoint, akv_endpoint, kid, access_token?}  SKR sidecar: {key: <JWK text>}
 *   GET  /status       {status: "ok", evidence, tee, simulated}
 *
 * Only loopback addresses are accepted for listening: the secrets it serves are the pod's own. Errors
 * are {code, step, message} and never hold secret material; nothing is logged but step names.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { ConfcomError, UsageError } from '../core/errors.js';
import { GuestFlowError } from './errors.js';
import type { AzureSkrClient } from './azure-client.js';
import type { KbsClient } from './kbs-client.js';
import type { EvidenceProvider } from './evidence/provider.js';

export interface GuestApiOptions {
  evidence: EvidenceProvider;
  kbs?: KbsClient;
  azure?: AzureSkrClient;
}

const LOOPBACK = ['127.0.0.1', '::1', 'localhost'];

export function assertLoopback(host: string): void {
  if (!LOOPBACK.includes(host)) throw new UsageError(`the guest API listens on loopback only, not '${host}'`, { hint: 'use --host 127.0.0.1 (the workload shares the pod network namespace)' });
}

function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof GuestFlowError) {
    const status = error.status === 404 ? 404 : error.status === 403 || error.status === 401 ? 403 : 502;
    return reply.code(status).send({ code: error.code, step: error.step, message: error.message });
  }
  if (error instanceof ConfcomError) return reply.code(400).send({ code: error.code, message: error.message });
  return reply.code(500).send({ code: 'internal', message: 'internal error' });
}

function text(body: unknown, field: string, required: boolean): string | undefined {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value === '') throw new UsageError(`${field}: expected a non-empty string`);
  return value;
}

/** The released key as JWK text: JSON JWKs pass through, raw bytes become an `oct` key. */
export function keyAsJwk(bytes: Buffer): string {
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof parsed === 'object' && parsed !== null && 'kty' in parsed) return JSON.stringify(parsed);
  } catch {
    // not JSON: raw key bytes
  }
  return JSON.stringify({ kty: 'oct', k: bytes.toString('base64url') });
}

export function createGuestApi(options: GuestApiOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  app.get('/status', async () => ({ status: 'ok', evidence: options.evidence.name, tee: options.evidence.tee, simulated: options.evidence.simulated }));

  app.get<{ Params: { repo: string; type: string; tag: string } }>('/cdh/resource/:repo/:type/:tag', async (request, reply) => {
    try {
      if (!options.kbs) throw new UsageError('no KBS is configured (start with --kbs URL)');
      const { repo, type, tag } = request.params;
      const secret = await options.kbs.getResource({ repository: repo, type, tag });
      return reply.header('content-type', 'application/octet-stream').header('cache-control', 'no-store').send(secret);
    } catch (error) {
      return sendError(reply, error);
    }
  });

  app.post('/attest/maa', async (request, reply) => {
    try {
      if (!options.azure) throw new UsageError('the Azure flow is not enabled');
      const maa = text(request.body, 'maa_endpoint', true) as string;
      const runtime = text(request.body, 'runtime_data', false);
      let claims: Record<string, unknown> = {};
      if (runtime !== undefined) {
        try {
          claims = JSON.parse(Buffer.from(runtime, 'base64').toString('utf8')) as Record<string, unknown>;
        } catch {
          throw new UsageError('runtime_data: expected base64 of a JSON object');
        }
      }
      const { token } = await options.azure.attestMaa(withScheme(maa), claims);
      return { token };
    } catch (error) {
      return sendError(reply, error);
    }
  });

  app.post('/key/release', async (request, reply) => {
    try {
      if (!options.azure) throw new UsageError('the Azure flow is not enabled');
      const maa = text(request.body, 'maa_endpoint', true) as string;
      const akv = text(request.body, 'akv_endpoint', true) as string;
      const kid = text(request.body, 'kid', true) as string;
      const access = text(request.body, 'access_token', false);
      const { token } = await options.azure.attestMaa(withScheme(maa));
      const key = await options.azure.releaseKey(withScheme(akv), kid, token, access);
      return reply.header('cache-control', 'no-store').send({ key: keyAsJwk(key) });
    } catch (error) {
      return sendError(reply, error);
    }
  });
  return app;
}

/** The SKR sidecar takes bare host names for endpoints; we accept those and URLs. */
function withScheme(endpoint: string): string {
  return /^https?:\/\//.test(endpoint) ? endpoint : `https://${endpoint}`;
}
