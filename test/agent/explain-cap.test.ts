/** `?explain=` keeps at most MAX_EXPLAIN_EVENTS trace events and says where it cut (opa-api.ts). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegoEngine } from '../../src/rego/index.js';
import { explainCollector, explanation } from '../../src/agent/server/opa-api.js';
import { sharedPath } from '../helpers/shared.js';

const kata = sharedPath('kata-requests');

function traced(limit: number, n: number) {
  const engine = new RegoEngine();
  engine.addModule(`package t\nimport rego.v1\nx := count([1 | some a in numbers.range(1, ${n})])\n`, 't.rego', { syntax: 'v1' });
  const collector = explainCollector('full', limit);
  const { value } = engine.evalRule('data.t.x', { tracer: collector.tracer });
  return { value, ...collector };
}

describe('explanation cap', () => {
  it('keeps every event under the cap, with no note', () => {
    const { value, events, truncated } = traced(100_000, 5);
    expect(value).toBe(5);
    expect(truncated()).toBe(false);
    const out = explanation(events, false, truncated()) as { op: string }[];
    expect(out.length).toBe(events.length);
    expect(out.some((e) => e.op === 'note')).toBe(false);
  });

  it('past the cap drops the rest, answers the same value, and ends with a note', () => {
    const { value, events, truncated } = traced(50, 200);
    expect(value).toBe(200);
    expect(events.length).toBe(50);
    expect(truncated()).toBe(true);
    const raw = explanation(events, false, true) as { op: string; node: { text: string } }[];
    expect(raw.length).toBe(51);
    expect(raw[50]).toMatchObject({ op: 'note', node: { text: 'explanation truncated after 50 events' } });
    const pretty = explanation(events, true, true) as string[];
    expect(pretty[50]).toBe('Note explanation truncated after 50 events');
  });

  it.skipIf(!kata)('keeps a whole CreateContainerRequest explanation of a real Kata policy', () => {
    const root = join(kata as string, 'pod-exec');
    const engine = new RegoEngine();
    engine.addModule(readFileSync(join(root, 'policy.rego'), 'utf8'), 'policy.rego', { syntax: 'v0' });
    engine.setData({ pstate: {} });
    const create = readFileSync(join(root, 'requests.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"CreateContainerRequest"'))
      .map((l) => (JSON.parse(l) as { request: unknown }).request);
    for (const request of create) {
      const collector = explainCollector('full');
      engine.evalRule('data.agent_policy.CreateContainerRequest', { input: request, tracer: collector.tracer });
      expect(collector.events.length).toBeGreaterThan(1000);
      expect(collector.truncated()).toBe(false);
    }
  });
});
