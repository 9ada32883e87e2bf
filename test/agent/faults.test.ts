/**
 * Faults from issue 13 at the decision points: prototype pollution through JSON Patch (agent state and
 * the server's data API), a JSON string document refused, and a runaway query freezing `serve opa`.
 * The server is exercised over real HTTP on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { createOpaServer } from '../../src/agent/server/opa-server.js';
import { PolicyEnforcer } from '../../src/agent/enforcer.js';
import { applyJsonPatch, type PatchOperation } from '../../src/agent/json-patch.js';
import { createLogger } from '../../src/core/log.js';
import { RegoEngine } from '../../src/rego/index.js';
import { QueryRunner } from '../../src/agent/server/query-runner.js';

const quiet = createLogger({ level: 'silent' });
const UNSAFE = ['__proto__', 'constructor', 'prototype'];

/** Names on Object.prototype and Function.prototype now, to compare after each attack. */
function prototypeSnapshot(): string {
  return JSON.stringify([Object.getOwnPropertyNames(Object.prototype).sort(), Object.getOwnPropertyNames(Function.prototype).sort()]);
}

describe('JSON Patch never reaches a prototype', () => {
  it('refuses __proto__, constructor and prototype segments', () => {
    for (const seg of UNSAFE) {
      expect(() => applyJsonPatch({}, [{ op: 'add', path: `/${seg}/polluted`, value: 1 }])).toThrow(/refused segment/);
      expect(() => applyJsonPatch({ a: {} }, [{ op: 'copy', from: `/${seg}`, path: '/a/x' }])).toThrow(/refused segment/);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('property: no patch of random ops and paths changes Object.prototype', () => {
    const before = prototypeSnapshot();
    const segment = fc.oneof(fc.constantFrom(...UNSAFE, 'a', '0', '-', 'input', 'toString'), fc.string({ maxLength: 4 }));
    const pointer = fc.array(segment, { maxLength: 4 }).map((s) => s.map((x) => '/' + x.replace(/~/g, '~0').replace(/\//g, '~1')).join(''));
    const op = fc.record({ op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test'), path: pointer, from: pointer, value: fc.jsonValue() });
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(op, { maxLength: 5 }), (doc, ops) => {
        try {
          applyJsonPatch(doc as never, ops as PatchOperation[]);
        } catch {
          // refusals and bad operations are fine; only the prototype matters here
        }
        return prototypeSnapshot() === before && ({} as Record<string, unknown>).input === undefined;
      }),
      { numRuns: 500 },
    );
  });

  it('the agent refuses ops on /pstate/__proto__/... and outside /pstate, and denies', () => {
    const before = prototypeSnapshot();
    for (const path of ['/pstate/__proto__/polluted', '/pstate/constructor/prototype/polluted', '/pstateX']) {
      const policy = `package agent_policy\nimport rego.v1\nCreateContainerRequest := {"allowed": true, "ops": [{"op": "add", "path": ${JSON.stringify(path)}, "value": "yes"}]}\n`;
      const e = PolicyEnforcer.fromText(policy, { logger: quiet });
      const d = e.decide('CreateContainerRequest', {});
      expect(d.allowed).toBe(false);
      expect(d.error?.code).toBe('agent_bad_ops');
    }
    expect(prototypeSnapshot()).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('json.patch and object.get refuse unsafe path segments (an error, not undefined)', () => {
    const engine = new RegoEngine();
    engine.addModule('package p\na := json.patch({}, [{"op": "add", "path": "/__proto__/x", "value": 1}])\nb := object.get({}, ["constructor", "prototype"], 0)\nc := json.remove({"a": 1}, ["prototype/x"])\n', 'p.rego');
    for (const rule of ['a', 'b', 'c']) expect(() => engine.evalRule(`data.p.${rule}`)).toThrow(/is not allowed/);
  });
});

describe('agent decisions under builtin limits', () => {
  it('a request that blows a builtin budget is denied (error), quickly', () => {
    const policy = 'package agent_policy\nimport rego.v1\ndefault CreateContainerRequest := false\nCreateContainerRequest if count(numbers.range(1, input.n)) > 0\nExecProcessRequest if not too_long\ntoo_long if units.parse_bytes(input.size) > 100\n';
    const e = PolicyEnforcer.fromText(policy, { logger: quiet });
    const started = Date.now();
    const create = e.decide('CreateContainerRequest', { n: 1e9 });
    expect(create).toMatchObject({ allowed: false, reason: 'error' });
    expect(create.error?.code).toBe('rego_limit_error');
    // Under `not`, a limit must not read as "undefined" (which would allow).
    const exec = e.decide('ExecProcessRequest', { size: '1e99999999' });
    expect(exec).toMatchObject({ allowed: false, reason: 'error' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(e.decide('CreateContainerRequest', { n: 3 }).allowed).toBe(true);
  });
});

describe('query worker: hard deadline', () => {
  it('terminates a worker that overruns, answers rego_limit_error, and serves the next query from the reloaded state', async () => {
    // The hard deadline (here 150 ms) is shorter than the engine's own (2 s), so termination is what stops it.
    const runner = new QueryRunner({ timeoutMs: 2000, graceMs: -1850 });
    try {
      const slow = 'package p\nimport rego.v1\nx := 1\nslow := count([1 | some a in numbers.range(1, 4000); some b in numbers.range(1, 4000); a == b])\n';
      expect(await runner.load([['p.rego', slow, 'v1']], { cfg: 7 })).toMatchObject({ ok: true });
      const started = Date.now();
      const answer = await runner.query('data.p.slow', undefined);
      expect(answer).toMatchObject({ ok: false, error: { code: 'rego_limit_error' } });
      expect(Date.now() - started).toBeLessThan(1500);
      expect(runner.restarts).toBe(1);
      expect(await runner.query('data.p.x', undefined)).toMatchObject({ ok: true, resultText: '1' });
      expect(await runner.query('data.cfg', undefined)).toMatchObject({ ok: true, resultText: '7' });
    } finally {
      await runner.close();
    }
  });
});

describe('serve opa: data API, and a bad query does not freeze the server', () => {
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    app = await createOpaServer({ evalTimeoutMs: 1500 });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
  });

  const send = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const putPolicy = (id: string, text: string) => fetch(`${base}/v1/policies/${id}`, { method: 'PUT', body: text, headers: { 'content-type': 'text/plain' } });

  it('accepts any JSON value as a document: PUT /v1/data/s with "a string"', async () => {
    expect((await send('PUT', '/v1/data/s', 'a string')).status).toBe(204);
    expect(await (await send('GET', '/v1/data/s')).json()).toEqual({ result: 'a string' });
    expect((await send('PUT', '/v1/data/n', 42)).status).toBe(204);
    expect(await (await send('GET', '/v1/data/n')).json()).toEqual({ result: 42 });
    const bad = await fetch(`${base}/v1/data/s`, { method: 'PUT', body: '{nope', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
  });

  it('answers a number beyond double range with its digits, never Infinity or null', async () => {
    expect((await putPolicy('big_num', 'package big_num\nx := 1e400 * 1\n')).status).toBe(200);
    const text = await (await send('GET', '/v1/data/big_num/x')).text();
    expect(text).toBe('{"result":1e400}');
  });

  it('refuses data paths and patches through __proto__; later queries without input see no attacker input', async () => {
    expect((await putPolicy('q', 'package q\nimport rego.v1\nwho := input.user if input.user\n')).status).toBe(200);
    const before = prototypeSnapshot();
    const patch = await send('PATCH', '/v1/data/x', [{ op: 'add', path: '/__proto__/input', value: { user: 'attacker' } }]);
    expect(patch.status).toBe(400);
    for (const seg of UNSAFE) {
      expect((await send('PUT', `/v1/data/${seg}/input`, { user: 'attacker' })).status).toBe(400);
      expect((await send('PATCH', `/v1/data/a/${seg}`, [{ op: 'add', path: '/user', value: 'attacker' }])).status).toBe(400);
    }
    expect(await (await send('POST', '/v1/data/q/who', {})).json()).toEqual({});
    expect(await (await send('POST', '/v1/data/q/who', { input: { user: 'alice' } })).json()).toEqual({ result: 'alice' });
    expect(prototypeSnapshot()).toBe(before);
  });

  /** The slowest of `times` /health answers (ms), `pauseMs` apart; each must be 200. */
  const slowestHealth = async (times: number, pauseMs: number): Promise<number> => {
    let slowest = 0;
    for (let i = 0; i < times; i++) {
      const t = Date.now();
      expect((await fetch(`${base}/health`)).status).toBe(200);
      slowest = Math.max(slowest, Date.now() - t);
      await new Promise((r) => setTimeout(r, pauseMs));
    }
    return slowest;
  };

  it('answers /health within 100 ms while a runaway query runs, then stops the query with rego_limit_error', async () => {
    // Bounded builtins fail fast; this query is slow in plain evaluation steps that each look cheap.
    const slow = 'package slow\nimport rego.v1\nx := count([1 | some a in numbers.range(1, 4000); some b in numbers.range(1, 4000); a == b])\n';
    expect((await putPolicy('slow', slow)).status).toBe(200);
    const started = Date.now();
    const pending = send('POST', '/v1/data/slow/x', { input: {} });
    await new Promise((r) => setTimeout(r, 200));
    expect(await slowestHealth(5, 50)).toBeLessThan(100);
    const answer = await pending;
    // It was still running while /health answered (the health checks took over 400 ms).
    expect(Date.now() - started).toBeGreaterThan(400);
    expect(answer.status).toBe(500);
    const body = (await answer.json()) as { errors: { code: string }[] };
    expect(body.errors[0].code).toBe('rego_limit_error');
    expect(Date.now() - started).toBeLessThan(5000);
    // The server goes on answering queries (on a fresh worker if it had to stop one).
    expect(await (await send('POST', '/v1/data/q/who', { input: { user: 'bob' } })).json()).toEqual({ result: 'bob' });
  });

  for (const [what, method, path, body] of [
    ['an ad-hoc query', 'POST', '/v1/query', { query: 'x := count([1 | some a in numbers.range(1, 4000); some b in numbers.range(1, 4000); a == b])' }],
    ['an explained query', 'POST', '/v1/data/slow/x?explain=full', { input: {} }],
  ] as const) {
    it(`answers /health within 100 ms while ${what} runs away (it runs in a query worker too)`, async () => {
      const slow = 'package slow\nimport rego.v1\nx := count([1 | some a in numbers.range(1, 4000); some b in numbers.range(1, 4000); a == b])\n';
      expect((await putPolicy('slow', slow)).status).toBe(200);
      const pending = send(method, path, body);
      await new Promise((r) => setTimeout(r, 200));
      expect(await slowestHealth(3, 0)).toBeLessThan(100);
      const answer = await pending;
      expect(answer.status).toBe(500);
      expect(((await answer.json()) as { errors: { code: string }[] }).errors[0].code).toBe('rego_limit_error');
    });
  }

  it('a query that exhausts builtin budgets is an error answer, and the server stays up', async () => {
    expect((await putPolicy('big', 'package big\nx := count(numbers.range(1, input.n))\n')).status).toBe(200);
    const r = await send('POST', '/v1/data/big/x', { input: { n: 1e9 } });
    expect(r.status).toBe(500);
    expect(((await r.json()) as { errors: { code: string }[] }).errors[0].code).toBe('rego_limit_error');
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});
