/**
 * Real Kata policies (Rego v0) against the requests a real agent received (../shared/kata-requests):
 * every `expect` value must come out of data.agent_policy.<kind>. State under data.pstate evolves as the
 * agent evolves it: when a decision is an object with allowed=true and `ops`, the ops patch data.pstate.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyJsonPatch, asPatchOperations } from '../../src/agent/json-patch.js';
import { RegoEngine } from '../../src/rego/index.js';
import { RObject, equals, fromJson, serializeJson, toJson, type Json, type Value } from '../../src/rego/value.js';
import { sharedPath } from '../helpers/shared.js';

interface Recorded {
  kind: string;
  request: unknown;
  expect: unknown;
}

const dir = sharedPath('kata-requests');
const cases = dir ? readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory()) : [];

function load(name: string): { engine: RegoEngine; requests: Recorded[] } {
  const root = join(dir as string, name);
  const engine = new RegoEngine();
  engine.addModule(readFileSync(join(root, 'policy.rego'), 'utf8'), 'policy.rego', { syntax: 'v0' });
  engine.setData({ pstate: {} });
  const requests = readFileSync(join(root, 'requests.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Recorded);
  return { engine, requests };
}

/** Applies a decision's state ops to data.pstate, as the agent does after an allowed request. */
function applyOps(engine: RegoEngine, value: Value | undefined): void {
  if (!(value instanceof RObject) || value.get('allowed') !== true) return;
  const ops = value.get('ops');
  if (ops === undefined) return;
  const parsed = asPatchOperations(toJson(ops));
  if (!parsed) throw new Error(`decision has malformed ops: ${serializeJson(ops)}`);
  const state = engine.getData(['pstate']);
  engine.putData(['pstate'], applyJsonPatch((state === undefined ? {} : toJson(state)) as Json, parsed));
}

describe.skipIf(cases.length === 0)('Kata policies with recorded agent requests', () => {
  it.each(cases)('%s: every recorded decision is reproduced', (name) => {
    const { engine, requests } = load(name);
    expect(requests.length).toBeGreaterThan(1);
    const mismatches: string[] = [];
    requests.forEach((r, i) => {
      const got = engine.evalRule(`data.agent_policy.${r.kind}`, { input: r.request }).value;
      if (got === undefined || !equals(got, fromJson(r.expect))) {
        mismatches.push(`#${i} ${r.kind}: got ${got === undefined ? 'undefined' : serializeJson(got)}, want ${JSON.stringify(r.expect)}`);
      }
      applyOps(engine, got);
    });
    expect(mismatches).toEqual([]);
  });

  it.each(cases)('%s: random JSON inputs never crash the evaluator', (name) => {
    const { engine, requests } = load(name);
    const kinds = [...new Set(requests.map((r) => r.kind))];
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.jsonValue({ maxDepth: 4 }), (kind, input) => {
        // Any outcome but a crash is fine: a value, undefined, or a typed Rego error.
        try {
          engine.evalRule(`data.agent_policy.${kind}`, { input });
        } catch (error) {
          expect((error as { code?: string }).code).toMatch(/^(eval_|rego_)/);
        }
      }),
      { numRuns: 150 },
    );
  });
});
