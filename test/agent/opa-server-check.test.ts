/** `serve opa` runs the engine's check stage on every policy change and answers OPA's 400 with all errors found. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createOpaServer } from '../../src/agent/server/opa-server.js';

const GOOD = `package app

allow if input.user == "alice"
`;

interface ErrorBody {
  code: string;
  message: string;
  errors: { code: string; message: string; location?: { file: string; row: number; col: number } }[];
}

describe('serve opa: policy uploads go through the check stage', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await createOpaServer();
    expect((await put('app', GOOD)).statusCode).toBe(200);
  });
  afterAll(() => app.close());

  const put = (id: string, text: string) => app.inject({ method: 'PUT', url: `/v1/policies/${id}`, payload: text, headers: { 'content-type': 'text/plain' } });
  const allow = async (user: string) => JSON.parse((await app.inject({ method: 'POST', url: '/v1/data/app/allow', payload: { input: { user } } })).body) as { result?: unknown };
  const rejected = async (id: string, text: string): Promise<ErrorBody> => {
    const r = await put(id, text);
    expect(r.statusCode).toBe(400);
    const body = JSON.parse(r.body) as ErrorBody;
    expect(body.code).toBe('invalid_parameter');
    expect(body.message).toBe('error(s) occurred while compiling module(s)');
    return body;
  };

  it('lists every undefined function, in unreached rules too, with its location', async () => {
    const body = await rejected('app', `package app

allow if input.user == "alice"

never if nope.one(1)

also_never if {
  false
  nope.two(2, 3)
}
`);
    expect(body.errors.map((e) => [e.code, e.message, e.location?.file, e.location?.row])).toEqual([
      ['rego_type_error', 'undefined function nope.one', 'app', 5],
      ['rego_type_error', 'undefined function nope.two', 'app', 9],
    ]);
  });

  it('lists every unsafe variable', async () => {
    const body = await rejected('app', `package app

a if x > 1

b if { y == 2 }
`);
    expect(body.errors.map((e) => e.code)).toEqual(['rego_unsafe_var_error', 'rego_unsafe_var_error']);
    expect(body.errors.map((e) => e.message)).toEqual(['var x is unsafe', 'var y is unsafe']);
    expect(body.errors.map((e) => e.location?.row)).toEqual([3, 5]);
  });

  it('rejects a compile-time type error (input.n + "text") as OPA does', async () => {
    const body = await rejected('app', `package app

n := input.n + "text"
`);
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].code).toBe('rego_type_error');
    expect(body.errors[0].message).toMatch(/^plus: invalid argument\(s\)/);
    expect(body.errors[0].location).toEqual({ file: 'app', row: 3, col: expect.any(Number) });
  });

  it('rejects a recursive rule', async () => {
    const body = await rejected('app', `package app

p if q
q if p
`);
    expect(body.errors.map((e) => e.code)).toEqual(['rego_recursion_error']);
  });

  it('keeps serving the previous policy after a rejected upload', async () => {
    await rejected('app', 'package app\n\nallow if nope(input)\n');
    expect(await allow('alice')).toEqual({ result: true });
    const stored = JSON.parse((await app.inject({ method: 'GET', url: '/v1/policies/app' })).body) as { result: { raw: string } };
    expect(stored.result.raw).toBe(GOOD);
  });

  it('checks across modules: a new module calling another one loads, and deleting the callee is refused', async () => {
    expect((await put('lib', 'package lib\n\nok(x) if x == "alice"\n')).statusCode).toBe(200);
    expect((await put('user', 'package user\n\nimport data.lib\n\nallow if lib.ok(input.user)\n')).statusCode).toBe(200);
    const deleted = await app.inject({ method: 'DELETE', url: '/v1/policies/lib' });
    expect(deleted.statusCode).toBe(400);
    expect((JSON.parse(deleted.body) as ErrorBody).errors.map((e) => [e.code, e.location?.file])).toEqual([['rego_type_error', 'user']]);
    const answer = JSON.parse((await app.inject({ method: 'POST', url: '/v1/data/user/allow', payload: { input: { user: 'alice' } } })).body) as { result?: unknown };
    expect(answer).toEqual({ result: true });
  });
});
