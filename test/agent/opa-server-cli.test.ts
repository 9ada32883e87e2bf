/** `confcom serve opa` as a real process: a policy from a file, the default decision, JSON request and decision logs, /metrics. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runConfcom } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'serve-opa-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('confcom serve opa', () => {
  it('serves a decision, logs it as JSON lines, and exports /metrics', async () => {
    const policy = join(dir, 'authz.rego');
    writeFileSync(policy, 'package authz\n\nimport rego.v1\n\ndefault allow := false\n\nallow if {\n  print("method", input.method)\n  input.method == "GET"\n}\n');
    const decisions = join(dir, 'decisions.log');
    const child = spawn(process.execPath, ['--import', 'tsx', `${REPO_ROOT}src/cli/main.ts`, '--log-level', 'info', 'serve', 'opa', '--port', '0', '--policy', policy, '--default-decision', 'authz/allow', '--decision-log', decisions], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line: ${stderr}`)), 30_000);
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
      });
      const answer = await fetch(`${url}/`, { method: 'POST', body: JSON.stringify({ method: 'GET' }), headers: { 'content-type': 'application/json' } });
      expect(await answer.text()).toBe('true');
      const deny = await fetch(`${url}/?pretty`, { method: 'POST', body: JSON.stringify({ method: 'DELETE' }), headers: { 'content-type': 'application/json' } });
      expect(await deny.text()).toBe('false');
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/http_request_duration_seconds_count\{code="200",handler="\/",method="POST"\} 2/);
      expect(metrics).toMatch(/confcom_opa_decisions_total\{outcome="defined"\} 2/);
      // Request log: pino JSON lines on stderr, written asynchronously: they may arrive after the answers.
      const incoming = () =>
        stderr
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { msg: string; req?: { path: string } })
          .filter((l) => l.msg === 'incoming request' && l.req?.path === '/').length;
      for (let waited = 0; incoming() < 2 && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
      expect(incoming()).toBe(2);
      // At --log-level info the policy's print() output is logged too, as opa run --server logs it.
      const printed = () =>
        stderr
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { msg: string; level: number; print?: string })
          .filter((l) => l.print !== undefined)
          .map((l) => [l.msg, l.level, l.print]);
      for (let waited = 0; printed().length < 2 && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
      expect(printed()).toEqual([
        ['method GET', 30, 'data["authz"]["allow"]'],
        ['method DELETE', 30, 'data["authz"]["allow"]'],
      ]);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    const logged = readFileSync(decisions, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { msg: string; path: string; result: unknown; input: unknown });
    expect(logged.map((l) => [l.msg, l.path, l.result])).toEqual([
      ['Decision Log', 'authz/allow', true],
      ['Decision Log', 'authz/allow', false],
    ]);
  }, 60_000);

  it('a decision log in a missing folder is exit 2', async () => {
    const r = await runConfcom(['serve', 'opa', '--port', '0', '--decision-log', join(dir, 'nope', 'd.log')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does not exist');
  });

  it('--query-workers must be a whole number from 1 to 64 (exit 2)', async () => {
    const r = await runConfcom(['serve', 'opa', '--port', '0', '--query-workers', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--query-workers 0: give a whole number from 1 to 64');
  });

  it('--query-heap must be a whole number of MB from 64 to 65536 (exit 2)', async () => {
    const r = await runConfcom(['serve', 'opa', '--port', '0', '--query-heap', '32']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--query-heap 32: give a whole number from 64 to 65536');
  });
});
