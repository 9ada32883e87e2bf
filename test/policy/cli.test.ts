/**
 * The commands as users run them: generate (stdout, -o, --in-place, --format initdata, --print-hash),
 * hash, check (exit 1 on drift), simulate piped into `policy replay`, and errors that name the file,
 * document, field path and what to do, leaving the input untouched.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runConfcom } from '../helpers/cli.js';
import { EXAMPLES_DIR, startHarness, type Harness } from './harness.js';

const FIXTURES = join(REPO_ROOT, 'test/fixtures/policy');

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

describe('policy generate / hash / check / simulate', () => {
  it('generates in place, then hashes, checks, simulates and replays', async () => {
    const file = join(h.dir, 'deployment.yaml');
    await copyFile(join(EXAMPLES_DIR, 'deployment.yaml'), file);
    const gen = await runConfcom(['policy', 'generate', file, '--in-place', '--print-hash', ...h.imageFlags]);
    expect(gen.code, gen.stderr).toBe(0);
    const [hashLine] = gen.stdout.trim().split('\n');
    expect(hashLine).toMatch(/^[0-9a-f]{64} {2}Deployment\/api {2}/);
    expect(gen.stderr).toContain('take their value from a Secret');
    expect(await readFile(file, 'utf8')).toContain('io.katacontainers.config.agent.policy: ');

    const hash = await runConfcom(['policy', 'hash', file]);
    expect(hash.stdout.trim()).toBe(`${hashLine.slice(0, 64)}  Deployment/api`);

    const check = await runConfcom(['policy', 'check', file, ...h.imageFlags]);
    expect(check.code, check.stderr).toBe(0);

    const sim = await runConfcom(['policy', 'simulate', file, ...h.imageFlags]);
    expect(sim.code, sim.stderr).toBe(0);
    const requests = join(h.dir, 'requests.jsonl');
    await writeFile(requests, sim.stdout);
    const replay = await runConfcom(['policy', 'replay', '--policy', file, '--requests', requests]);
    expect(replay.code, replay.stdout).toBe(0);
    expect(replay.stdout).toMatch(/(\d+) requests: \1 as expected, 0 differ/);

    await writeFile(file, (await readFile(file, 'utf8')).replace('MODE: production', 'MODE: debug'));
    const drift = await runConfcom(['policy', 'check', file, ...h.imageFlags]);
    expect(drift.code).toBe(1);
    expect(drift.stderr).toContain('error[policy_drift]: Deployment/api');
    expect(drift.stderr).toContain('"MODE=production" in the policy but "MODE=debug" from the manifest');
  }, 60_000);

  it('writes initdata to a file with -o', async () => {
    const out = join(h.dir, 'out.yaml');
    const gen = await runConfcom(['policy', 'generate', join(EXAMPLES_DIR, 'job.yaml'), '-o', out, '--format', 'initdata', '--json', ...h.imageFlags]);
    expect(gen.code, gen.stderr).toBe(0);
    const summary = JSON.parse(gen.stdout) as { policies: { resource: string; hostData: string; annotation: string }[] };
    expect(summary.policies).toEqual([expect.objectContaining({ resource: 'Job/migrate', annotation: 'io.katacontainers.config.hypervisor.cc_init_data' })]);
    const hash = await runConfcom(['policy', 'hash', out]);
    expect(hash.stdout.trim()).toBe(`${summary.policies[0].hostData}  Job/migrate`);
  }, 60_000);
});

describe('errors name the place and the fix, and leave the input untouched', () => {
  it.each([
    ['missing-configmap.yaml', 'manifest_configmap_missing', 'document 0, at spec.containers[0].env[0].valueFrom.configMapKeyRef', '--config-file'],
    ['unpullable-image.yaml', 'manifest_image_failed', 'document 1, at spec.template.spec.containers[1].image', 'tag'],
    ['unsupported-volume.yaml', 'manifest_volume_unsupported', 'document 0, at spec.volumes[0].nfs', 'emptyDir'],
  ])('%s', async (fixture, code, where, hint) => {
    const file = join(h.dir, fixture);
    await copyFile(join(FIXTURES, fixture), file);
    const before = await readFile(file, 'utf8');
    const r = await runConfcom(['policy', 'generate', file, '--in-place', ...h.imageFlags]);
    expect(r.code).toBeGreaterThan(0);
    expect(r.stderr).toContain(`error[${code}]`);
    expect(r.stderr).toContain(`--> ${file}, ${where}`);
    expect(r.stderr).toMatch(new RegExp(`hint: .*${hint}`));
    expect(await readFile(file, 'utf8')).toBe(before);
  }, 60_000);

  it('takes the missing ConfigMap from --config-file and pins its value', async () => {
    const extra = join(h.dir, 'extra-config.yaml');
    await writeFile(extra, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: not-provided\ndata:\n  KEY: from-config-file\n');
    const r = await runConfcom(['policy', 'generate', join(FIXTURES, 'missing-configmap.yaml'), '--config-file', extra, ...h.imageFlags]);
    expect(r.code, r.stderr).toBe(0);
    const b64 = /io\.katacontainers\.config\.agent\.policy: (\S+)/.exec(r.stdout)?.[1] ?? '';
    expect(Buffer.from(b64, 'base64').toString()).toContain('"FROM_CONFIG=from-config-file"');
  }, 60_000);

  it('warns about an unknown field, and refuses it with --strict', async () => {
    const file = join(FIXTURES, 'unknown-field.yaml');
    const lax = await runConfcom(['policy', 'generate', file, ...h.imageFlags]);
    expect(lax.code, lax.stderr).toBe(0);
    expect(lax.stderr).toContain('unknown field spec.containers[0].securityContxt');
    const strict = await runConfcom(['policy', 'generate', file, '--strict', ...h.imageFlags]);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain('error[manifest_unknown_field]');
    expect(strict.stderr).toContain('at spec.containers[0].securityContxt');
  }, 60_000);
});
