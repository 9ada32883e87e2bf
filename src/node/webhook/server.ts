/**
 * The admission webhook service: HTTPS (the API server only calls webhooks over TLS), `POST /mutate`
 * taking and returning an `admission.k8s.io/v1` AdmissionReview, plus `/healthz` and `/metrics`.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { NodeMetrics } from '../metrics.js';
import { decide, type WebhookConfig } from './mutate.js';

export interface AdmissionReview {
  apiVersion?: string;
  kind?: string;
  request?: { uid?: string; kind?: { kind?: string }; operation?: string; object?: unknown };
}

/** The AdmissionReview answer for one review (a malformed review is refused, never allowed). */
export function review(body: AdmissionReview, config: WebhookConfig, metrics?: NodeMetrics): Record<string, unknown> {
  const uid = body.request?.uid ?? '';
  const respond = (response: Record<string, unknown>) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, ...response } });
  if (body.apiVersion !== 'admission.k8s.io/v1' || body.kind !== 'AdmissionReview' || !body.request?.uid) {
    metrics?.admissions.inc({ decision: 'malformed' });
    return respond({ allowed: false, status: { code: 400, message: 'expected an admission.k8s.io/v1 AdmissionReview with request.uid' } });
  }
  const object = body.request.object;
  if (body.request.kind?.kind !== 'Pod' || typeof object !== 'object' || object === null) {
    metrics?.admissions.inc({ decision: 'ignored' });
    return respond({ allowed: true });
  }
  const decision = decide(object, config);
  if (!decision.allowed) {
    metrics?.admissions.inc({ decision: 'denied' });
    return respond({ allowed: false, status: { code: decision.code, message: decision.message } });
  }
  metrics?.admissions.inc({ decision: decision.patch.length > 0 ? 'patched' : 'allowed' });
  if (decision.patch.length === 0) return respond({ allowed: true });
  return respond({ allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(decision.patch)).toString('base64') });
}

export interface WebhookServerOptions extends WebhookConfig {
  tls: { cert: Buffer | string; key: Buffer | string };
  metrics: NodeMetrics;
}

export function buildWebhookServer(options: WebhookServerOptions): FastifyInstance {
  const app = Fastify({ https: { cert: options.tls.cert, key: options.tls.key }, bodyLimit: 8 << 20, logger: false });
  app.post('/mutate', async (request) => review((request.body ?? {}) as AdmissionReview, options, options.metrics));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_request, reply) => reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics()));
  return app;
}
