/** The `/metrics` helper over real HTTP: on a bare Fastify app and on the attestation server it is registered on. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerHttpMetrics } from '../../src/core/http-metrics.js';
import { createAttestationServer } from '../../src/attest/service/index.js';
import { SecretStore } from '../../src/attest/kbs/secrets.js';
import { createLogger } from '../../src/core/log.js';

describe('registerHttpMetrics', () => {
  it('counts requests by route pattern, not by URL, and keeps the caller\'s own metrics', async () => {
    const app = Fastify();
    const registry = registerHttpMetrics(app);
    const own = new Counter({ name: 'demo_things_total', help: 'things', registers: [registry] });
    app.get('/items/:id', async () => ({ ok: true }));
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      for (const id of ['a', 'b', 'c']) expect((await fetch(`${base}/items/${id}`)).status).toBe(200);
      expect((await fetch(`${base}/missing`)).status).toBe(404);
      own.inc(5);
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).toContain('http_request_duration_seconds_count{code="200",handler="/items/:id",method="GET"} 3');
      expect(text).toMatch(/http_request_duration_seconds_count\{code="404",handler="unmatched",method="GET"\} 1/);
      expect(text).not.toContain('/items/a');
      expect(text).toContain('demo_things_total 5');
    } finally {
      await app.close();
    }
  });

  it('observes each request\'s duration in seconds', async () => {
    const app = Fastify();
    const registry = registerHttpMetrics(app);
    app.get('/slow', async () => {
      await new Promise((done) => setTimeout(done, 60));
      return {};
    });
    await app.ready();
    await app.inject('/slow');
    const text = await registry.metrics();
    const sum = Number(/http_request_duration_seconds_sum\{code="200",handler="\/slow",method="GET"\} ([0-9.e-]+)/.exec(text)?.[1]);
    // At least the handler's 60 ms, and seconds, not milliseconds.
    expect(sum).toBeGreaterThanOrEqual(0.055);
    expect(sum).toBeLessThan(30);
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.05",code="200",handler="/slow",method="GET"} 0');
    await app.close();
  });

  it('two servers in one process keep separate registries', async () => {
    const one = Fastify();
    const two = Fastify();
    registerHttpMetrics(one);
    registerHttpMetrics(two);
    one.get('/x', async () => ({}));
    await one.ready();
    await two.ready();
    await one.inject('/x');
    const text = (await two.inject('/metrics')).body;
    expect(text).not.toContain('handler="/x"');
    await Promise.all([one.close(), two.close()]);
  });

  it('is served by the attestation server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'metrics-'));
    const server = await createAttestationServer({ issuer: 'https://as.test', trustSimulator: true, secrets: new SecretStore(dir), logger: createLogger({ level: 'silent' }) });
    const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(text).toMatch(/http_request_duration_seconds_count\{code="200",handler="\/health",method="GET"\} 1/);
    } finally {
      await server.app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
