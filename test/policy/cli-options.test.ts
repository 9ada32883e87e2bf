/**
 * The genpolicy / az confcom habits of `policy generate` and friends, each through the real binary:
 * stdin and folder inputs, the print forms, --rules, --settings FILE, repeatable --image-source,
 * --offline with a layout, List items by --resource, unknown kinds, the annotation size limit, drift
 * naming the variable, initdata manifests in replay, and pull progress with --quiet.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runConfcom } from '../helpers/cli.js';
import { EXAMPLES_DIR, startHarness, type Harness } from './harness.js';
import { EXAMPLE_IMAGES, writeExampleLayout } from './test-images.js';

const FIXTURES = join(REPO_ROOT, 'test/fixtures/policy');
const INPUTS = join(FIXTURES, 'inputs');
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

interface Summary {
  policies: { resource: string; hostData: string; format: string }[];
  skipped: string[];
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

describe('inputs', () => {
  it("reads standard input for '-' (generate and hash)", async () => {
    const text = await readFile(join(INPUTS, 'web.yaml'), 'utf8');
    const gen = await runConfcom(['policy', 'generate', '-', ...h.imageFlags], { input: text });
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stdout).toContain('io.katacontainers.config.agent.policy: ');
    const hash = await runConfcom(['policy', 'hash', '-'], { input: gen.stdout });
    expect(hash.code, hash.stderr).toBe(0);
    expect(hash.stdout).toMatch(/^[0-9a-f]{64} {2}Pod\/web\n$/);
  }, 60_000);

  it('reads a folder with -f, its sub-folders only with --recursive', async () => {
    const flat = await runConfcom(['--json', 'policy', 'generate', '-f', INPUTS, ...h.imageFlags]);
    expect(flat.code, flat.stderr).toBe(0);
    expect((JSON.parse(flat.stdout) as Summary).policies.map((p) => p.resource)).toEqual(['Pod/web']);
    const deep = await runConfcom(['--json', 'policy', 'generate', '-f', INPUTS, '-R', ...h.imageFlags]);
    expect(deep.code, deep.stderr).toBe(0);
    expect((JSON.parse(deep.stdout) as Summary).policies.map((p) => p.resource)).toEqual(['Job/worker', 'Pod/web']);
  }, 60_000);
});

describe('print forms, rules and settings', () => {
  const web = join(INPUTS, 'web.yaml');

  it('--print-policy prints the Rego text whose SHA-256 is HOST_DATA; --base64-out the annotation value', async () => {
    const json = await runConfcom(['--json', 'policy', 'generate', web, ...h.imageFlags]);
    const [policy] = (JSON.parse(json.stdout) as Summary).policies;
    const printed = await runConfcom(['policy', 'generate', web, '--print-policy', ...h.imageFlags]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/^package agent_policy$/m);
    expect(printed.stdout).toContain('\npolicy_data := {');
    expect(sha(printed.stdout)).toBe(policy.hostData);
    const b64 = await runConfcom(['policy', 'generate', web, '--base64-out', ...h.imageFlags]);
    expect(Buffer.from(b64.stdout.trim(), 'base64').toString('utf8')).toBe(printed.stdout);
  }, 60_000);

  it('--raw-out with --format initdata prints the TOML that HOST_DATA hashes', async () => {
    const json = await runConfcom(['--json', 'policy', 'generate', web, '--format', 'initdata', ...h.imageFlags]);
    const [policy] = (JSON.parse(json.stdout) as Summary).policies;
    const raw = await runConfcom(['policy', 'generate', web, '--format', 'initdata', '--raw-out', ...h.imageFlags]);
    expect(raw.code, raw.stderr).toBe(0);
    expect(raw.stdout).toMatch(/^algorithm = "sha256"\nversion = "0\.1\.0"\n\n\[data\]\n"policy\.rego" = '''\n[^]*^package agent_policy$/m);
    expect(sha(raw.stdout)).toBe(policy.hostData);
  }, 60_000);

  it('--rules FILE replaces our rules; --settings FILE applies one drop-in', async () => {
    const rules = await readFile(join(FIXTURES, 'custom-rules.rego'), 'utf8');
    const custom = await runConfcom(['policy', 'generate', web, '--print-policy', '--rules', join(FIXTURES, 'custom-rules.rego'), ...h.imageFlags]);
    expect(custom.code, custom.stderr).toBe(0);
    expect(custom.stdout.startsWith(rules.trimEnd())).toBe(true);
    expect(custom.stdout).toContain('policy_data := {');

    const plain = await runConfcom(['policy', 'generate', web, '--print-policy', ...h.imageFlags]);
    expect(plain.stdout).toContain('"ReadStreamRequest": false');
    const logs = await runConfcom(['policy', 'generate', web, '--print-policy', '--settings', join(FIXTURES, 'settings-logs.json'), ...h.imageFlags]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('"ReadStreamRequest": true');
  }, 60_000);
});

describe('image sources', () => {
  it('searches every --image-source by tag or full reference; --offline with a layout and an empty cache works', async () => {
    const first = join(h.dir, 'layout-a');
    const second = join(h.dir, 'layout-b');
    await writeExampleLayout(first, EXAMPLE_IMAGES.filter((i) => i.tag === '3.9'));
    await writeExampleLayout(second, EXAMPLE_IMAGES.filter((i) => i.tag === 'web-1.0'));
    // containerd and buildah name entries by the full reference, not the tag.
    const index = JSON.parse(await readFile(join(second, 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    index.manifests[0].annotations['org.opencontainers.image.ref.name'] = 'confcom.example/web:web-1.0';
    await writeFile(join(second, 'index.json'), JSON.stringify(index));
    const emptyCache = join(h.dir, 'empty-cache');
    await mkdir(emptyCache);
    const both = await runConfcom(['policy', 'generate', join(INPUTS, 'web.yaml'), '--offline', '--image-source', `oci-layout:${first}`, '--image-source', `oci-layout:${second}`, '--cache', emptyCache, '--print-hash', '-o', join(h.dir, 'both.yaml')]);
    expect(both.code, both.stderr).toBe(0);
    const reference = await runConfcom(['policy', 'generate', join(INPUTS, 'web.yaml'), '--print-hash', '-o', join(h.dir, 'ref.yaml'), ...h.imageFlags]);
    expect(both.stdout.slice(0, 64)).toBe(reference.stdout.slice(0, 64));

    const one = await runConfcom(['policy', 'generate', join(INPUTS, 'web.yaml'), '--offline', '--image-source', `oci-layout:${first}`, '--cache', emptyCache]);
    expect(one.code).toBe(2);
    expect(one.stderr).toContain("tag 'web-1.0' not found in OCI layout");
  }, 60_000);

  it('blames settings, not the manifest, for the sandbox (pause) image; an offline miss keeps image_offline_miss', async () => {
    const webOnly = join(h.dir, 'layout-web-only');
    await writeExampleLayout(webOnly, EXAMPLE_IMAGES.filter((i) => i.tag === 'web-1.0'));
    const emptyCache = join(h.dir, 'empty-cache-pause');
    await mkdir(emptyCache);
    const miss = await runConfcom(['policy', 'generate', join(INPUTS, 'web.yaml'), '--offline', '--image-source', `oci-layout:${webOnly}`, '--cache', emptyCache, '-o', join(h.dir, 'miss.yaml')]);
    expect(miss.code).toBe(2);
    expect(miss.stderr).toMatch(/^error\[manifest_image_failed\]: Pod\/web: the sandbox \(pause\) image 'registry\.k8s\.io\/pause:3\.9' from settings \(pause_image\) cannot be used: /);
    expect(miss.stderr).toContain(`--> ${join(INPUTS, 'web.yaml')}, document 0\n`);
    expect(miss.stderr).toContain('set pause_image in a --settings file');

    const offline = await runConfcom(['policy', 'generate', join(INPUTS, 'web.yaml'), '--offline', '--cache', emptyCache, '-o', join(h.dir, 'offline.yaml')]);
    expect(offline.code).toBe(2);
    expect(offline.stderr).toMatch(/^error\[image_offline_miss\]: Pod\/web: the sandbox \(pause\) image 'registry\.k8s\.io\/pause:3\.9' from settings \(pause_image\) cannot be used: no cached manifest/);
    expect(offline.stderr).toContain('drop --offline');
    expect(offline.stderr).toContain('--image-source');

    const settings = join(h.dir, 'pause-tools.json');
    await writeFile(settings, JSON.stringify([{ op: 'replace', path: '/pause_image', value: 'confcom.example/tools:tools-1.0' }]));
    const out = join(h.dir, 'pause-tools.yaml');
    const gen = await runConfcom(['policy', 'generate', join(INPUTS, 'web.yaml'), '--settings', settings, '-o', out, '--quiet', ...h.imageFlags]);
    expect(gen.code, gen.stderr).toBe(0);
    const same = await runConfcom(['policy', 'check', out, '--settings', settings, ...h.imageFlags]);
    expect(same.code, same.stderr).toBe(0);
    const drift = await runConfcom(['policy', 'check', out, ...h.imageFlags]);
    expect(drift.code).toBe(1);
    expect(drift.stderr).toContain('is "confcom.example/tools:tools-1.0" in the policy but "registry.k8s.io/pause:3.9" from settings (pause_image, the sandbox image)');
    expect(drift.stderr).not.toContain('from the manifest');
    expect(drift.stderr).toContain('pass the same --settings');
  }, 60_000);

  it('shows pull progress on stderr, none with --quiet or --json', async () => {
    const run = async (cache: string, ...extra: string[]) => runConfcom(['policy', 'generate', join(INPUTS, 'web.yaml'), '--image-source', `oci-layout:${h.layout}`, '--cache', join(h.dir, cache), '-o', join(h.dir, `${cache}.yaml`), ...extra]);
    const shown = await run('progress-shown');
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stderr).toMatch(/pulling confcom\.example\/web:web-1\.0(@sha256:[0-9a-f]{64})? layer sha256:/);
    const quiet = await run('progress-quiet', '--quiet');
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toContain('pulling');
    const json = await run('progress-json', '--json');
    expect(json.stderr).not.toContain('pulling');
  }, 60_000);
});

describe('resources', () => {
  it('--resource picks an item of a List in simulate and replay', async () => {
    const out = join(h.dir, 'list.yaml');
    const gen = await runConfcom(['policy', 'generate', join(EXAMPLES_DIR, 'list.yaml'), '-o', out, ...h.imageFlags]);
    expect(gen.code, gen.stderr).toBe(0);
    const sim = await runConfcom(['policy', 'simulate', out, '--resource', 'Pod/hello', ...h.imageFlags]);
    expect(sim.code, sim.stderr).toBe(0);
    const requests = join(h.dir, 'list-requests.jsonl');
    await writeFile(requests, sim.stdout);
    const replay = await runConfcom(['policy', 'replay', '--policy', out, '--resource', 'hello', '--requests', requests]);
    expect(replay.code, replay.stdout + replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/(\d+) requests: \1 as expected, 0 differ/);
  }, 60_000);

  it('replays against a manifest carrying initdata', async () => {
    const out = join(h.dir, 'initdata.yaml');
    expect((await runConfcom(['policy', 'generate', join(INPUTS, 'web.yaml'), '--format', 'initdata', '-o', out, ...h.imageFlags])).code).toBe(0);
    const sim = await runConfcom(['policy', 'simulate', out, ...h.imageFlags]);
    const requests = join(h.dir, 'initdata-requests.jsonl');
    await writeFile(requests, sim.stdout);
    const replay = await runConfcom(['policy', 'replay', '--policy', out, '--requests', requests]);
    expect(replay.code, replay.stdout + replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/(\d+) requests: \1 as expected, 0 differ/);
  }, 60_000);

  it('warns about an unknown kind whose pod template asks for a confidential runtime class', async () => {
    const gen = await runConfcom(['policy', 'generate', join(FIXTURES, 'unknown-kind.yaml'), ...h.imageFlags]);
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stderr).toContain("WebServerSet/fleet: kind 'WebServerSet' is not one confcom knows, but its pod template at spec.template.spec asks for runtime class 'kata-cc-isolation'");
  }, 60_000);

  it("refuses a policy that takes the annotations over Kubernetes' 256 KiB", async () => {
    const containers = Array.from({ length: 120 }, (_, i) => `    - {name: c${i}, image: confcom.example/web:web-1.0, env: [{name: INDEX, value: "${i}"}]}`).join('\n');
    const file = join(h.dir, 'huge.yaml');
    await writeFile(file, `apiVersion: v1\nkind: Pod\nmetadata:\n  name: huge\nspec:\n  runtimeClassName: kata-cc-isolation\n  containers:\n${containers}\n`);
    const gen = await runConfcom(['policy', 'generate', file, ...h.imageFlags]);
    expect(gen.code).toBe(2);
    expect(gen.stderr).toMatch(/error\[policy_too_large\]: Pod\/huge: the pod template's annotations would be [\d,]+ bytes .* over Kubernetes' limit of 262,144 bytes/);
  }, 60_000);
});

describe('policy check', () => {
  it('names the environment variable that changed', async () => {
    const file = join(h.dir, 'web-check.yaml');
    await writeFile(file, await readFile(join(INPUTS, 'web.yaml'), 'utf8'));
    expect((await runConfcom(['policy', 'generate', file, '--in-place', ...h.imageFlags])).code).toBe(0);
    await writeFile(file, (await readFile(file, 'utf8')).replace('db.internal:5432', 'db.attacker:5432'));
    const drift = await runConfcom(['policy', 'check', file, ...h.imageFlags]);
    expect(drift.code).toBe(1);
    expect(drift.stderr).toContain('container web: env DATABASE_URL');
    expect(drift.stderr).toContain('"DATABASE_URL=postgres://db.internal:5432/app" in the policy but "DATABASE_URL=postgres://db.attacker:5432/app" from the manifest');
  }, 60_000);
});
