/**
 * Every simulated request has exactly the keys and JSON types of a request of the same kind that a
 * real Kata agent recorded (../shared/kata-requests), so our rules are written against what the agent
 * really sends. Arrays are compared element by element against every recorded element at the same
 * place; map-valued fields (annotations, sysctls) only by value type.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKataCases } from '../helpers/kata.js';
import { EXAMPLE_FILES, runExample, startHarness, type Harness } from './harness.js';

type J = unknown;
const MAP_FIELDS = new Set(['OCI.Annotations', 'OCI.Linux.Sysctl']);

const isObject = (v: J): v is Record<string, J> => typeof v === 'object' && v !== null && !Array.isArray(v);
const typeName = (v: J) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Every recorded value under a path (array positions written `[]`), across all recorded requests of a kind. */
function collect(value: J, path: string, pool: Map<string, J[]>): void {
  const list = pool.get(path) ?? [];
  list.push(value);
  pool.set(path, list);
  if (Array.isArray(value)) value.forEach((v) => collect(v, `${path}[]`, pool));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) collect(v, path === '' ? k : `${path}.${k}`, pool);
}

/** Differences between a simulated value and one recorded value of the same place. */
function mismatches(sim: J, rec: J, path: string, pool: Map<string, J[]>): string[] {
  if (typeName(sim) !== typeName(rec)) return [`${path || '(request)'}: ${typeName(sim)} where the agent sent ${typeName(rec)}`];
  if (Array.isArray(sim)) {
    const recorded = (pool.get(`${path}[]`) ?? []) as J[];
    return sim.flatMap((element, i) => {
      if (recorded.length === 0) return [`${path}[${i}]: the recordings have no element here to compare with`];
      return recorded.some((r) => mismatches(element, r, `${path}[]`, pool).length === 0) ? [] : [`${path}[${i}]: matches no recorded element (${mismatches(element, recorded[0], `${path}[]`, pool)[0]})`];
    });
  }
  if (!isObject(sim) || !isObject(rec)) return [];
  if (MAP_FIELDS.has(path)) return Object.entries(sim).flatMap(([k, v]) => (typeof v === 'string' ? [] : [`${path}[${k}]: not a string`]));
  const simKeys = Object.keys(sim).sort();
  const recKeys = Object.keys(rec).sort();
  if (simKeys.join() !== recKeys.join()) {
    const extra = simKeys.filter((k) => !recKeys.includes(k));
    const missing = recKeys.filter((k) => !simKeys.includes(k));
    return [`${path || '(request)'}: keys differ (extra: ${extra.join(', ') || 'none'}; missing: ${missing.join(', ') || 'none'})`];
  }
  return simKeys.flatMap((k) => mismatches(sim[k], rec[k], path === '' ? k : `${path}.${k}`, pool));
}

const cases = loadKataCases();
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

describe.skipIf(cases === undefined)('simulated requests have the shape of recorded agent requests', () => {
  const byKind = new Map<string, J[]>();
  const pools = new Map<string, Map<string, J[]>>();
  for (const c of cases ?? []) {
    for (const r of c.requests) {
      byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), r.request]);
      const pool = pools.get(r.kind) ?? new Map<string, J[]>();
      collect(r.request, '', pool);
      pools.set(r.kind, pool);
    }
  }

  it('finds the recordings', () => {
    expect(byKind.get('CreateContainerRequest')?.length).toBeGreaterThanOrEqual(4);
  });

  it.each(EXAMPLE_FILES)('%s', async (file) => {
    const { pods } = await runExample(h, file);
    let compared = 0;
    for (const pod of pods) {
      for (const r of pod.requests) {
        const recorded = byKind.get(r.kind);
        expect(recorded, `the recordings have no ${r.kind}`).toBeDefined();
        const attempts = (recorded ?? []).map((rec) => mismatches(r.request, rec, '', pools.get(r.kind) as Map<string, J[]>));
        const best = attempts.reduce((a, b) => (b.length < a.length ? b : a));
        expect(best, `${pod.resource}: ${r.kind}`).toEqual([]);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(0);
  });

  it('notices a request that differs in shape', () => {
    const rec = (byKind.get('CreateContainerRequest') ?? [])[1];
    const pool = pools.get('CreateContainerRequest') as Map<string, J[]>;
    const changed = structuredClone(rec) as { OCI: { Process: Record<string, J> } };
    changed.OCI.Process.Extra = 1;
    expect(mismatches(rec, rec, '', pool)).toEqual([]);
    expect(mismatches(changed, rec, '', pool)[0]).toContain('OCI.Process: keys differ (extra: Extra');
  });
});
