/**
 * Golden policy texts for two examples: any change to our rules or to what a pod spec turns into
 * shows up in review as a diff of test/fixtures/policy/golden/*.rego. After a deliberate change,
 * regenerate them with `npm run golden` (UPDATE_GOLDEN=1 npx vitest run test/policy/golden.test.ts).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';
import { runExample, startHarness, type Harness } from './harness.js';

const GOLDEN = join(REPO_ROOT, 'test/fixtures/policy/golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const EXAMPLES = [
  { file: 'pod.yaml', resource: 'Pod/web' },
  { file: 'job.yaml', resource: 'Job/migrate' },
];

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

describe('golden policies', () => {
  for (const { file, resource } of EXAMPLES) {
    it(`${file}: ${resource} renders the policy text in ${file.replace(/\.yaml$/, '.rego')}`, async () => {
      const { pods } = await runExample(h, file);
      const pod = pods.find((p) => p.resource === resource);
      expect(pod, `${resource} in ${file}`).toBeDefined();
      const golden = join(GOLDEN, file.replace(/\.yaml$/, '.rego'));
      if (UPDATE) await writeFile(golden, pod?.policy.policy ?? '');
      const expected = await readFile(golden, 'utf8');
      // A plain equality: vitest prints the differing lines; regenerate with UPDATE_GOLDEN=1 when the change is meant.
      expect(pod?.policy.policy, 'the policy changed: review the diff, then run `npm run golden`').toBe(expected);
    }, 60_000);
  }
});
