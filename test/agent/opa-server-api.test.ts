/** `serve opa` as OPA serves it, over real HTTP: default decision, GET input, /v1/query, explain, metrics, provenance, status, health, 404s, logs, /metrics. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createOpaServer } from '../../src/agent/server/opa-server.js';
import { DecisionLog } from '../../src/agent/server/decision-log.js';

const POLICY = `package system

import rego.v1

main := {"allowed": allowed, "user": input.user}

default allowed := false

allowed if input.user == "alice"

big := 1e400
`;

describe('OPA REST API', () => {
  let app: FastifyInstance;
  let base: string;
  const decisions: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    const logger = pino({ level: 'info', serializers: { req: (req: { method: string; url: string }) => ({ method: req.method, path: req.url.split('?')[0] }) } }, { write: (l: string) => void requests.push(l) });
    app = await createOpaServer({ decisionLog: new DecisionLog({ sink: (l) => decisions.push(l) }), logger, version: '9.8.7' });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    const put = await fetch(`${base}/v1/policies/system`, { method: 'PUT', body: POLICY, headers: { 'content-type': 'text/plain' } });
    expect(put.status).toBe(200);
  });
  afterAll(async () => {
    await app.close();
  });

  const json = async (r: Response) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> });

  it('POST / answers the default decision with the value itself', async () => {
    const r = await json(await fetch(`${base}/`, { method: 'POST', body: JSON.stringify({ user: 'alice' }), headers: { 'content-type': 'application/json' } }));
    expect(r).toEqual({ status: 200, body: { allowed: true, user: 'alice' } });
  });

  it('POST / on an undefined default decision is 404 undefined_document', async () => {
    const other = await createOpaServer({ defaultDecision: 'nothing/here' });
    const url = await other.listen({ host: '127.0.0.1', port: 0 });
    try {
      const r = await json(await fetch(`${url}/`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }));
      expect((await json(await fetch(`${url}/v1/data/nothing/here`))).body).toEqual({});
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ code: 'undefined_document', message: 'document missing or undefined: data["nothing"]["here"]' });
    } finally {
      await other.close();
    }
  });

  it('GET /v1/data takes a URL-encoded input document', async () => {
    const input = encodeURIComponent(JSON.stringify({ user: 'bob' }));
    const r = await json(await fetch(`${base}/v1/data/system/main?input=${input}`));
    expect(r.status).toBe(200);
    expect(r.body.result).toEqual({ allowed: false, user: 'bob' });
    // With decision logging on, each answer names its decision, as OPA's does.
    expect(r.body.decision_id).toMatch(/^req-/);
    const bad = await json(await fetch(`${base}/v1/data/system/main?input=%7Bnot-json`));
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_parameter');
  });

  it('keeps numbers beyond double range exact', async () => {
    const r = await fetch(`${base}/v1/data/system/big`);
    expect(await r.text()).toMatch(/^\{"result":1e400,"decision_id":"req-[0-9a-z]+"\}$/);
  });

  it('adds metrics, provenance and an explanation on request', async () => {
    const r = await json(await fetch(`${base}/v1/data/system/allowed?metrics&provenance=true&explain=full`, { method: 'POST', body: JSON.stringify({ input: { user: 'alice' } }), headers: { 'content-type': 'application/json' } }));
    expect(r.status).toBe(200);
    expect(r.body.result).toBe(true);
    const metrics = r.body.metrics as Record<string, number>;
    expect(metrics.timer_rego_query_eval_ns).toBeGreaterThan(0);
    expect(metrics.timer_server_handler_ns).toBeGreaterThanOrEqual(metrics.timer_rego_query_eval_ns);
    expect(r.body.provenance).toMatchObject({ version: '9.8.7' });
    const events = r.body.explanation as { op: string; type: string; node: { text?: string } }[];
    expect(events.some((e) => e.op === 'enter')).toBe(true);
    expect(events.some((e) => e.node.text?.includes('input.user == "alice"'))).toBe(true);
    // fails keeps only failures; pretty gives lines.
    const fails = await json(await fetch(`${base}/v1/data/system/allowed?explain=fails&pretty=true&input=${encodeURIComponent('{"user":"eve"}')}`));
    const lines = fails.body.explanation as string[];
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => /^(\| )*Fail /.test(l))).toBe(true);
    expect((await json(await fetch(`${base}/v1/data/system/allowed?explain=loud`))).status).toBe(400);
  });

  it('answers ad-hoc queries on GET and POST /v1/query', async () => {
    const q = encodeURIComponent('x := data.system.main.user; y := [1, 2][_]');
    const r = await json(await fetch(`${base}/v1/query?q=${q}&input=${encodeURIComponent('{"user":"carol"}')}`));
    expect(r).toEqual({ status: 200, body: { result: [{ x: 'carol', y: 1 }, { x: 'carol', y: 2 }] } });
    const post = await json(await fetch(`${base}/v1/query?metrics`, { method: 'POST', body: JSON.stringify({ query: 'data.system.allowed', input: { user: 'alice' } }), headers: { 'content-type': 'application/json' } }));
    expect(post.body.result).toEqual([{}]);
    expect((post.body.metrics as Record<string, number>).timer_rego_query_eval_ns).toBeGreaterThan(0);
    // Undefined: no result key, as OPA omits an empty result set.
    expect(await json(await fetch(`${base}/v1/query?q=${encodeURIComponent('1 == 2')}`))).toEqual({ status: 200, body: {} });
    const parse = await json(await fetch(`${base}/v1/query?q=${encodeURIComponent('x := [')}`));
    expect(parse.status).toBe(400);
    expect(parse.body.code).toBe('invalid_parameter');
    expect((await json(await fetch(`${base}/v1/query`))).status).toBe(400);
  });

  it('reports /v1/status and /health?bundles&plugins', async () => {
    const status = await json(await fetch(`${base}/v1/status`));
    expect(status.body.result).toMatchObject({ labels: { version: '9.8.7' }, plugins: { policies: { state: 'OK' }, decision_logs: { state: 'OK' } } });
    expect(await json(await fetch(`${base}/health?bundles&plugins`))).toEqual({ status: 200, body: {} });
  });

  it('answers unknown routes with OPA error shape', async () => {
    const r = await json(await fetch(`${base}/v2/nothing?secret=1`));
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ code: 'resource_not_found', message: 'GET /v2/nothing is not an API route' });
  });

  it('writes decision and request logs as JSON lines, without the query string', async () => {
    await fetch(`${base}/v1/data/system/main?input=${encodeURIComponent('{"user":"dave","token":"s3cret"}')}`);
    const decision = decisions.map((l) => JSON.parse(l) as Record<string, unknown>).find((d) => (d.input as { user?: string } | undefined)?.user === 'dave')!;
    expect(decision).toMatchObject({ msg: 'Decision Log', type: 'openpolicyagent.org/decision_logs', path: 'system/main', result: { allowed: false, user: 'dave' } });
    expect(typeof decision.decision_id).toBe('string');
    expect(JSON.stringify(decision)).not.toContain('s3cret');
    const lines = requests.map((l) => JSON.parse(l) as { msg: string; req?: { path: string }; res?: { statusCode: number } });
    expect(lines.some((l) => l.msg === 'incoming request' && l.req?.path === '/v1/data/system/main')).toBe(true);
    expect(lines.some((l) => l.msg === 'request completed' && l.res?.statusCode === 200)).toBe(true);
    expect(requests.join('\n')).not.toContain('s3cret');
  });

  it('serves Prometheus /metrics with request durations by route and decisions by outcome', async () => {
    await fetch(`${base}/v1/data/system/nothing`);
    const r = await fetch(`${base}/metrics`);
    expect(r.headers.get('content-type')).toContain('text/plain');
    const text = await r.text();
    expect(text).toMatch(/http_request_duration_seconds_count\{code="200",handler="\/v1\/data\/\*",method="GET"\} [1-9]/);
    expect(text).toMatch(/confcom_opa_decisions_total\{outcome="undefined"\} [1-9]/);
    expect(text).toMatch(/confcom_opa_decisions_total\{outcome="defined"\} [1-9]/);
    expect(text).toContain('process_cpu_seconds_total');
  });
});
