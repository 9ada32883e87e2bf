/** The OPA-compatible server over real HTTP on loopback. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createOpaServer } from '../../src/agent/server/opa-server.js';
import { DecisionLog } from '../../src/agent/server/decision-log.js';
import { loadKataCases } from '../helpers/kata.js';

const cases = loadKataCases();

describe('OPA-compatible server', () => {
  let app: FastifyInstance;
  let base: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    app = await createOpaServer({ maxBodyBytes: 256 * 1024, decisionLog: new DecisionLog({ sink: (l) => logLines.push(l) }) });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
  });

  const put = (id: string, text: string) => fetch(`${base}/v1/policies/${id}`, { method: 'PUT', body: text, headers: { 'content-type': 'text/plain' } });
  const post = (path: string, input: unknown) =>
    fetch(`${base}/v1/data/${path}`, { method: 'POST', body: JSON.stringify({ input }), headers: { 'content-type': 'application/json' } });

  it('answers /health', async () => {
    const r = await fetch(`${base}/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({});
  });

  it('rejects bad Rego with 400 and the parse error location', async () => {
    const r = await put('bad', 'package x\n\np := {\n');
    expect(r.status).toBe(400);
    const body = (await r.json()) as { code: string; errors: { code: string; location?: { row: number } }[] };
    expect(body.code).toBe('invalid_parameter');
    expect(body.errors[0].code).toBe('rego_parse_error');
    expect(body.errors[0].location?.row).toBeGreaterThanOrEqual(3);
  });

  it('answers 413 for a body over the limit, then keeps serving', async () => {
    const r = await put('huge', 'package x\n# ' + 'a'.repeat(300 * 1024));
    expect(r.status).toBe(413);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it('has no result key for an undefined document, and data PUT/PATCH work', async () => {
    expect((await put('t', 'package t\n\nimport rego.v1\n\nv := data.cfg.level + 1 if data.cfg.level\n')).status).toBe(200);
    expect(await (await post('t/v', {})).json()).not.toHaveProperty('result');
    expect((await fetch(`${base}/v1/data/cfg`, { method: 'PUT', body: JSON.stringify({ level: 1 }), headers: { 'content-type': 'application/json' } })).status).toBe(204);
    expect(await (await post('t/v', {})).json()).toMatchObject({ result: 2 });
    const patch = [{ op: 'replace', path: '/level', value: 41 }];
    expect((await fetch(`${base}/v1/data/cfg`, { method: 'PATCH', body: JSON.stringify(patch), headers: { 'content-type': 'application/json' } })).status).toBe(204);
    expect(await (await post('t/v', {})).json()).toMatchObject({ result: 42 });
    const del = await fetch(`${base}/v1/policies/t`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect((await fetch(`${base}/v1/policies/t`)).status).toBe(404);
  });

  describe.skipIf(!cases)('with a real Kata policy', () => {
    it('gives every recorded result', async () => {
      for (const c of cases ?? []) {
        expect((await put('agent_policy', c.policy)).status).toBe(200);
        for (const record of c.requests) {
          const body = (await (await post(`agent_policy/${record.kind}`, record.request)).json()) as { result?: unknown };
          expect({ kind: record.kind, result: body.result }).toEqual({ kind: record.kind, result: record.expect });
        }
      }
      expect(logLines.length).toBeGreaterThan(0);
    });

    it('serves 200 concurrent clients x 50 requests with no error', async () => {
      const c = cases![0];
      expect((await put('agent_policy', c.policy)).status).toBe(200);
      // A cheap request keeps this bounded: it measures the server under load, not the policy's heaviest rule.
      const record = c.requests.find((r) => r.kind === 'GetOOMEventRequest')!;
      const client = async () => {
        let ok = 0;
        for (let i = 0; i < 50; i++) {
          const r = await post('agent_policy/GetOOMEventRequest', record.request);
          const body = (await r.json()) as { result?: unknown };
          if (r.status === 200 && body.result === record.expect) ok++;
        }
        return ok;
      };
      const results = await Promise.all(Array.from({ length: 200 }, client));
      expect(results.reduce((a, b) => a + b, 0)).toBe(200 * 50);
    }, 120_000);
  });

  it('redacts secret-looking values in the decision log', async () => {
    expect((await put('s', 'package s\n\nimport rego.v1\n\nok := true\n')).status).toBe(200);
    await post('s/ok', { env: ['DB_PASSWORD=hunter2', 'HOME=/root'], token: 'abc' });
    const line = logLines.map((l) => JSON.parse(l) as { path: string; input: unknown }).find((l) => l.path === 's/ok')!;
    expect(JSON.stringify(line.input)).not.toContain('hunter2');
    expect(JSON.stringify(line.input)).not.toContain('"abc"');
    expect(JSON.stringify(line.input)).toContain('HOME=/root');
  });
});
