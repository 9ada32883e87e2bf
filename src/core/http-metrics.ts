/**
 * Prometheus `/metrics` for a Fastify server (prom-client): request durations by route, method and
 * status (`http_request_duration_seconds`, the histogram OPA's server exports) plus Node's process
 * metrics, in a registry of the server's own so several servers in one process (tests) never clash.
 * The caller adds its own metrics to the returned registry.
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface HttpMetricsOptions {
  /** Prefix of the process metrics (`process_`, `nodejs_` by default, as prom-client names them). */
  processPrefix?: string;
  /** Route of the scrape endpoint. */
  path?: string;
}

/** Registers `GET /metrics` and the request-duration hooks; call before the server is ready. */
export function registerHttpMetrics(app: FastifyInstance, options: HttpMetricsOptions = {}): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: options.processPrefix });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency, by route, method and status code',
    labelNames: ['code', 'handler', 'method'],
    buckets: [1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  const started = new WeakMap<object, bigint>();
  app.addHook('onRequest', async (request) => {
    started.set(request, process.hrtime.bigint());
  });
  app.addHook('onResponse', async (request, reply) => {
    const t0 = started.get(request);
    if (t0 === undefined) return;
    // The route pattern, not the URL: one series per route however many paths clients send.
    const handler = request.routeOptions.url ?? 'unmatched';
    duration.observe({ code: String(reply.statusCode), handler, method: request.method }, Number(process.hrtime.bigint() - t0) / 1e9);
  });
  app.get(options.path ?? '/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  return registry;
}
