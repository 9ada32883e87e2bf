/** Decision bodies are parsed in the query worker: malformed JSON is still 400, inputs still reach the policy and the decision log. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createOpaServer } from '../../src/agent/server/opa-server.js';
import { DecisionLog } from '../../src/agent/server/decision-log.js';

const POLICY = `package system

main := {"user": input.user, "has_input": has_input}

default has_input := false

has_input if input
`;

describe('serve opa: request bodies parsed in the query worker', () => {
  let app: FastifyInstance;
  const decisions: Record<string, unknown>[] = [];
  beforeAll(async () => {
    app = await createOpaServer({ queryWorkers: 1, decisionLog: new DecisionLog({ sink: (l) => decisions.push(JSON.parse(l) as Record<string, unknown>) }) });
    expect((await app.inject({ method: 'PUT', url: '/v1/policies/system', payload: POLICY, headers: { 'content-type': 'text/plain' } })).statusCode).toBe(200);
  });
  afterAll(() => app.close());

  const post = (url: string, payload: string) => app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });

  it('answers 400 invalid_parameter for a body that is not JSON, on /v1/data and on /', async () => {
    for (const url of ['/v1/data/system/main', '/']) {
      const r = await post(url, '{"input": {"user": ');
      expect(r.statusCode).toBe(400);
      const body = JSON.parse(r.body) as { code: string; message: string };
      expect(body.code).toBe('invalid_parameter');
      expect(body.message).toMatch(/^body is not JSON: /);
    }
  });

  it('takes the input member on /v1/data, and no input when it is absent or the body is empty', async () => {
    const result = async (path: string, payload: string) => (JSON.parse((await post(`/v1/data/system/${path}`, payload)).body) as { result?: unknown }).result;
    expect(await result('main', '{"input": {"user": "ann"}}')).toEqual({ user: 'ann', has_input: true });
    expect(await result('has_input', '{"other": 1}')).toBe(false);
    expect(await result('has_input', '')).toBe(false);
    // A body whose prototype chain has `input` is no input: only an own member counts.
    expect(await result('has_input', '{"__proto__": {"input": {"user": "eve"}}}')).toBe(false);
  });

  it('takes the whole body as the input on POST /', async () => {
    expect(JSON.parse((await post('/', '{"user": "bo"}')).body)).toEqual({ user: 'bo', has_input: true });
  });

  it('gives the decision log the parsed input', async () => {
    await post('/v1/data/system/main', '{"input": {"user": "cy", "token": "s3cret"}}');
    const entry = decisions.find((d) => (d.input as { user?: string } | undefined)?.user === 'cy');
    expect(entry?.input).toEqual({ user: 'cy', token: '[REDACTED]' });
    expect(entry?.result).toEqual({ user: 'cy', has_input: true });
  });
});
