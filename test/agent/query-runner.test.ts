import { describe, expect, it } from 'vitest';
import { QueryRunner } from '../../src/agent/server/query-runner.js';

// Each of its 1200² steps formats two strings, so it stays slow however fast a plain comparison gets, and
// within the default step limit.
const slow = 'package p\nimport rego.v1\nslow := count([1 | some a in numbers.range(1, 1200); some b in numbers.range(1, 1200); sprintf("%v-%v", [a, b]) == sprintf("%v-%v", [b, a])])\n';

describe('query runner: a pool of workers', () => {
  // The slow query takes seconds (many more on a loaded CI machine, hence the long deadline); a second
  // worker starts (from source, under a second) and answers meanwhile.
  it('answers a fast query while another worker runs a slow one, and starts workers only as queries queue up', async () => {
    const runner = new QueryRunner({ timeoutMs: 45_000, workers: 2 });
    try {
      expect(runner.workerCount).toBe(1);
      await runner.load([['p.rego', `${slow}fast := 1\n`, 'v1']], {});
      const slowAnswer = runner.query('data.p.slow', undefined);
      let slowDone = false;
      void slowAnswer.then(() => (slowDone = true));
      const fast = await runner.query('data.p.fast', undefined);
      expect(fast).toMatchObject({ ok: true, resultText: '1' });
      expect(runner.workerCount).toBe(2);
      expect(slowDone).toBe(false);
      const slowResult = await slowAnswer;
      expect(slowResult, JSON.stringify(slowResult)).toMatchObject({ ok: true, resultText: '1200' });
    } finally {
      await runner.close();
    }
  });

  it('a query sent after a change sees it on every worker', async () => {
    const runner = new QueryRunner({ timeoutMs: 20_000, workers: 3 });
    try {
      for (let version = 1; version <= 3; version++) {
        void runner.load([['p.rego', `package p\nv := ${version}\n`, 'v1']], { base: version });
        const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => runner.query(i % 2 ? 'data.p.v' : 'data.base', undefined)));
        expect(answers.map((a) => (a.ok ? a.resultText : a.error.code))).toEqual(Array.from({ length: 12 }, () => String(version)));
      }
      expect(runner.workerCount).toBeGreaterThan(1);
    } finally {
      await runner.close();
    }
  });

  it('reports a change that does not load to its caller, and keeps answering', async () => {
    const runner = new QueryRunner({ timeoutMs: 20_000, workers: 2 });
    try {
      await runner.load([['p.rego', 'package p\nv := 1\n', 'v1']], {});
      const bad = await runner.load([['p.rego', 'package p\nv := \n', 'v1']], {});
      expect(bad).toMatchObject({ ok: false, error: { code: 'rego_parse_error' } });
      expect(await runner.query('data.p.v', undefined)).toMatchObject({ ok: true });
    } finally {
      await runner.close();
    }
  });

  // Queued queries go to a worker several per message; the deadline still applies to each of them.
  const sized = 'package p\nimport rego.v1\nwork := count([1 | some a in numbers.range(1, input.n); some b in numbers.range(1, input.n); a == b])\nfast := 1\n';

  it('stops a query that overruns inside a batch and answers the batch\'s other queries', async () => {
    // A hard limit of 500 ms far below the engine's own 20 s: the worker itself is stopped.
    const runner = new QueryRunner({ timeoutMs: 20_000, graceMs: -19_500, workers: 1 });
    try {
      // `slow` (seconds, within the step limit) from the first test.
      await runner.load([['p.rego', `${sized}${slow.replace('package p\nimport rego.v1\n', '')}`, 'v1']], {});
      const answers = await Promise.all([
        runner.query('data.p.fast', undefined),
        runner.query('data.p.fast', undefined),
        runner.query('data.p.slow', undefined),
        runner.query('data.p.fast', undefined),
        runner.query('data.p.fast', undefined),
      ]);
      expect(answers.map((a) => (a.ok ? a.resultText : a.error.code))).toEqual(['1', '1', 'rego_limit_error', '1', '1']);
      expect(answers[2]).toMatchObject({ error: { message: expect.stringContaining('the query worker was stopped') } });
      expect(runner.restarts).toBe(1);
    } finally {
      await runner.close();
    }
  });

  it('gives each query of a batch its own time, not the batch\'s', async () => {
    const probe = new QueryRunner({ timeoutMs: 60_000, workers: 1 });
    let oneMs: number;
    try {
      await probe.load([['p.rego', sized, 'v1']], {});
      await probe.query('data.p.work', { n: 300 });
      const t0 = Date.now();
      expect(await probe.query('data.p.work', { n: 600 })).toMatchObject({ ok: true, resultText: '600' });
      oneMs = Math.max(20, Date.now() - t0);
    } finally {
      await probe.close();
    }
    // Each query takes about oneMs; five in one batch take five times that, over the hard limit.
    const limit = Math.round(2.5 * oneMs);
    const runner = new QueryRunner({ timeoutMs: 60_000, graceMs: limit - 60_000, workers: 1 });
    try {
      await runner.load([['p.rego', sized, 'v1']], {});
      await runner.query('data.p.work', { n: 300 });
      const answers = await Promise.all(Array.from({ length: 5 }, () => runner.query('data.p.work', { n: 600 })));
      expect(answers.map((a) => (a.ok ? a.resultText : a.error.code))).toEqual(['600', '600', '600', '600', '600']);
      expect(runner.restarts).toBe(0);
    } finally {
      await runner.close();
    }
  });
});
