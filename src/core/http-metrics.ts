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
  // One callback-style onResponse hook: an async hook costs a promise per request, and Fastify already
  // times every request (reply.elapsedTime, ms since it was received), so no onRequest hook is needed.
  // The label children are kept by key so an observation does not hash its label object again.
  const series = new Map<string, ReturnType<typeof duration.labels>>();
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, not the URL: one series per route however many paths clients send.
    const handler = request.routeOptions.url ?? 'unmatched';
    const key = `${reply.statusCode} ${request.method} ${handler}`;
    let child = series.get(key);
    if (child === undefined) {
      child = duration.labels({ code: String(reply.statusCode), handler, method: request.method });
      series.set(key, child);
    }
    child.observe(reply.elapsedTime / 1e3);
    done();
  });
  app.get(options.path ?? '/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  return registry;
}
