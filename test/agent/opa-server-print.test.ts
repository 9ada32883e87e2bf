/** `serve opa` and print(): logged at info as `opa run --server` does when asked, a no-op otherwise. */
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createOpaServer } from '../../src/agent/server/opa-server.js';

const POLICY = `package p

import rego.v1

allow if {
  print("user is", input.user)
  input.user == "alice"
}
`;

describe('serve opa: print() output', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function serve(logPrints: boolean): Promise<{ base: string; lines: Record<string, unknown>[] }> {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    app = await createOpaServer({ logger, logPrints });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const put = await fetch(`${base}/v1/policies/p`, { method: 'PUT', body: POLICY, headers: { 'content-type': 'text/plain' } });
    expect(put.status).toBe(200);
    return { base, lines };
  }

  const ask = async (base: string, user: string) =>
    (await (await fetch(`${base}/v1/data/p/allow`, { method: 'POST', body: JSON.stringify({ input: { user } }), headers: { 'content-type': 'application/json' } })).json()) as unknown;

  it('logs each print line at info, with the data path it came from', async () => {
    const { base, lines } = await serve(true);
    expect(await ask(base, 'alice')).toEqual({ result: true });
    expect(await ask(base, 'mallory')).toEqual({});
    const printed = lines.filter((l) => l.print !== undefined);
    expect(printed.map((l) => [l.msg, l.level, l.print])).toEqual([
      ['user is alice', 30, 'data["p"]["allow"]'],
      ['user is mallory', 30, 'data["p"]["allow"]'],
    ]);
  });

  it('without logPrints gathers nothing and decides the same', async () => {
    const { base, lines } = await serve(false);
    expect(await ask(base, 'alice')).toEqual({ result: true });
    expect(await ask(base, 'mallory')).toEqual({});
    expect(lines.filter((l) => l.print !== undefined || String(l.msg).includes('user is'))).toEqual([]);
  });
});
