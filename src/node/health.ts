/** `/healthz` and `/metrics` (Prometheus text) for the node add-on's long-running commands. */
import Fastify, { type FastifyInstance } from 'fastify';
import type { NodeMetrics } from './metrics.js';

export function buildHealthServer(metrics: NodeMetrics, status: () => { ok: boolean; details: Record<string, unknown> }): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/healthz', async (_request, reply) => {
    const s = status();
    return reply.code(s.ok ? 200 : 503).send({ status: s.ok ? 'ok' : 'unhealthy', ...s.details });
  });
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  return app;
}
