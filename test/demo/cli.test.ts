/**
 * `confcom demo` as a user runs it (`npm start` runs the built form of the same command): exit 0, one
 * line a step with its time, the release named and never the value, the tampered policy refused, the
 * simulated TEE said plainly; `--json` gives the same steps structured.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runConfcom } from '../helpers/cli.js';
import type { DemoResult } from '../../src/demo/chain.js';

const STEP_LINE = /^(ok {2}|FAIL) +(\d+) ms {2}(.+?): (.+)$/;

describe('confcom demo (the command npm start runs)', () => {
  it('npm start is the built CLI running demo', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe('node dist/cli/main.js demo');
  });

  it('prints one line a step with its time, releases by name only, refuses the tampered policy, and exits 0', async () => {
    const r = await runConfcom(['demo']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[1]).toMatch(/^SIMULATED TEE:/);
    const steps = lines.filter((l) => /^(ok {2}|FAIL) /.test(l));
    expect(steps.length).toBeGreaterThanOrEqual(15);
    for (const line of steps) expect(line).toMatch(STEP_LINE);
    expect(steps.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    const got = steps.find((l) => /gets the secret/.test(l))!;
    expect(got).toMatch(/: released default\/key\/demo-secret \(32 bytes, value not shown\)$/);
    const tampered = steps.findIndex((l) => /tampered policy is refused, nothing released/.test(l));
    expect(tampered).toBe(steps.indexOf(got) + 1);
    expect(steps[tampered]).toMatch(/403 PolicyDeny \(release_denied\)$/);
    expect(lines.at(-1)).toBe('released default/key/demo-secret (value not shown)');
  }, 60_000);

  it('--json gives the structured log of the same steps', async () => {
    const r = await runConfcom(['--json', 'demo']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as DemoResult;
    expect(result).toMatchObject({ released: 'default/key/demo-secret', simulatedTee: true, resource: 'Deployment/app' });
    expect(result.steps.every((s) => s.ok && typeof s.ms === 'number' && s.step !== '' && s.detail !== '')).toBe(true);
    expect(result.steps.map((s) => s.step)).toContain('the same VM with a tampered policy is refused, nothing released');
  }, 60_000);
});
