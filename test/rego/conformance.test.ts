/**
 * OPA's conformance suite (../shared/opa-conformance): every case in the pass list must keep passing,
 * and the totals are printed. Regenerate the list with `node scripts/conformance-pass-list.mjs`.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { runConformance } from '../../src/rego/conformance.js';
import { defaultSkipList } from '../../src/cli/rego.js';
import { sharedPath } from '../helpers/shared.js';

const dir = sharedPath('opa-conformance/v1');
const passList = readFileSync(new URL('./conformance-pass.txt', import.meta.url), 'utf8').split('\n').filter((l) => l !== '');

describe.skipIf(!dir)('OPA conformance suite', () => {
  it('passes every case of the pass list (no regression)', () => {
    const results = runConformance(dir!, { skip: defaultSkipList() });
    const key = (r: { folder: string; file: string; index: number; note: string }) => `${r.folder}\t${r.file}\t${r.index}\t${r.note}`;
    const passing = new Set(results.filter((r) => r.status === 'passed').map(key));
    const count = (s: string) => results.filter((r) => r.status === s).length;
    process.stdout.write(`OPA conformance cases: passing ${count('passed')}, failing ${count('failed')}, skipped ${count('skipped')}\n`);
    const regressed = passList.filter((k) => !passing.has(k));
    expect(regressed).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(2000);
  }, 300_000);

  it('skips only folders named in the skip list, each with a reason', () => {
    for (const entry of defaultSkipList()) expect(entry.reason.length).toBeGreaterThan(10);
  });
});
