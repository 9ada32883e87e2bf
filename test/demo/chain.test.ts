/**
 * `confcom demo`'s chain, checked from outside: every step succeeds, the denials blame the fields the
 * tampering changed, and HOST_DATA is what the policy part itself (and so `confcom policy hash`) reads
 * from the annotated manifest, what the agent accepts, and what the image's layers pin.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';
import { runDemo, type DemoResult } from '../../src/demo/chain.js';
import { writeSampleImage } from '../../src/demo/sample-image.js';
import { execOther, findCreateContainer, findExec, injectEnv, swapLayer, type TamperedRequest } from '../../src/demo/tamper.js';
import { DEMO_MANIFEST_NAME, generateDemoWorkload, type DemoWorkload } from '../../src/demo/workload.js';
import { parseManifest } from '../../src/k8s/manifest.js';
import { AKS_ANNOTATION, OciImageResolver, checkDrift, embeddedPolicies, loadSettings, type JsonValue } from '../../src/policy/index.js';
import { PolicyEnforcer } from '../../src/agent/index.js';
import { pinLayer } from '../../src/verity/layer.js';
import { createLogger } from '../../src/core/log.js';

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const quiet = createLogger({ level: 'silent' });

/** The value at an explainDenial-style field path (`a.b[2].c`). */
function valueAt(value: JsonValue, path: string): JsonValue | undefined {
  let at: JsonValue | undefined = value;
  for (const [, key, index] of path.matchAll(/\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]/g)) {
    if (key !== undefined) at = at !== null && typeof at === 'object' && !Array.isArray(at) ? at[key] : undefined;
    else at = Array.isArray(at) ? at[Number(index)] : undefined;
  }
  return at;
}

let result: DemoResult;
let dir: string;
let layout: string;
let workload: DemoWorkload;

const DEMO_SECRET = Buffer.from('demo-secret-value-that-must-never-show');

beforeAll(async () => {
  result = await runDemo({ secret: DEMO_SECRET });
  dir = await mkdtemp(join(tmpdir(), 'confcom-demo-test-'));
  layout = join(dir, 'layout');
  await writeSampleImage(layout);
  workload = await generateDemoWorkload(result.image, layout, dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('confcom demo chain', () => {
  it('runs every step of the mission chain, each succeeding', () => {
    expect(result.steps.filter((s) => !s.ok)).toEqual([]);
    const names = result.steps.map((s) => s.step).join('\n');
    for (const part of [/OCI layout/, /generate the policy of Deployment\/app/, /HOST_DATA/, /refuses a SetPolicy/, /accepts the generated policy/, /every request/, /injected env/, /top layer swapped/, /ExecProcessRequest/, /INSECURE software TEE/, /appraisal: HOST_DATA/, /another policy/]) {
      expect(names).toMatch(part);
    }
    expect(result.resource).toBe('Deployment/app');
    expect(result.annotation).toBe(AKS_ANNOTATION);
  });

  it('decides every simulated request of the pod as expected, and there are requests of every phase', () => {
    expect(result.requests.asExpected).toBe(result.requests.total);
    expect(result.requests.total).toBe(workload.requests.length);
    const kinds = new Set(workload.requests.map((r) => r.kind));
    for (const kind of ['CreateSandboxRequest', 'CreateContainerRequest', 'StartContainerRequest', 'ExecProcessRequest']) expect(kinds).toContain(kind);
    expect(result.steps.find((s) => /every request/.test(s.step))?.detail).toBe(`${result.requests.total} requests: ${result.requests.total} as expected`);
  });

  it('HOST_DATA is SHA-256 of the annotated policy, as `policy hash` reads it, and the agent accepts exactly that text', () => {
    const annotated = parseManifest(result.manifest, DEMO_MANIFEST_NAME);
    const embedded = embeddedPolicies(annotated);
    expect(embedded).toHaveLength(1);
    expect(embedded[0]).toMatchObject({ resource: 'Deployment/app', format: 'aks', hostData: result.hostData });
    expect(sha256(embedded[0].policy)).toBe(result.hostData);
    expect(Buffer.byteLength(embedded[0].policy)).toBe(result.policyBytes);

    const agent = PolicyEnforcer.withDefaultPolicy({ hostData: result.hostData, logger: quiet });
    expect(agent.decide('SetPolicyRequest', { policy: `${embedded[0].policy} ` })).toMatchObject({ allowed: false, reason: 'host_data_mismatch' });
    expect(agent.decide('SetPolicyRequest', { policy: embedded[0].policy }).allowed).toBe(true);
    expect(agent.policyHash).toBe(result.hostData);
  });

  it('the annotated manifest does not drift from what the generator makes of it', async () => {
    const annotated = parseManifest(result.manifest, DEMO_MANIFEST_NAME);
    const images = new OciImageResolver({ imageSource: `oci-layout:${layout}`, cacheDir: join(dir, 'drift-cache') });
    await expect(checkDrift(annotated, { settings: await loadSettings(), images })).resolves.toEqual([{ resource: 'Deployment/app', hostData: result.hostData }]);
  });

  it('pins each image layer by the dm-verity root hash of its tar and tarfs index', async () => {
    const image = await writeSampleImage(join(dir, 'again'));
    const pins: string[] = [];
    for (const tar of image.layerTars) pins.push((await pinLayer((async function* () { yield tar; })())).rootHash);
    expect(result.layerPins).toEqual(pins);
    const policy = embeddedPolicies(parseManifest(result.manifest, DEMO_MANIFEST_NAME))[0].policy;
    for (const pin of pins) expect(policy).toContain(pin);
  });

  it('each denial names the request field the tampering changed', () => {
    const create = findCreateContainer(workload.requests, 'app');
    const env = (valueAt(create.request, 'OCI.Process.Env') as JsonValue[]).length;
    const byStep = (re: RegExp) => result.steps.find((s) => re.test(s.step));
    expect(byStep(/injected env/)?.field).toBe(`OCI.Process.Env[${env}]`);
    expect(byStep(/injected env/)?.detail).toContain('"LD_PRELOAD=/tmp/evil.so" not allowed for container "app"');
    // The image's top layer, wherever Kata lists it among the storages.
    const topPin = result.layerPins[result.layerPins.length - 1];
    const storages = valueAt(create.request, 'storages') as { options: string[] }[];
    const topLayer = storages.findIndex((s) => s.options.includes(`io.katacontainers.fs-opt.root-hash=${topPin}`));
    expect(topLayer).toBeGreaterThanOrEqual(0);
    expect(byStep(/swapped/)?.field).toMatch(new RegExp(`^storages\\[${topLayer}\\]\\.options\\[\\d+\\]$`));
    expect(byStep(/swapped/)?.detail).toMatch(/root-hash=[0-9a-f]{64}" not allowed for container "app"$/);
    expect(byStep(/ExecProcessRequest/)?.field).toBe('process.Args');
  });

  it('tampered requests change exactly the field they report, and the policy denies each', () => {
    const create = findCreateContainer(workload.requests, 'app');
    const exec = findExec(workload.requests, create);
    if (!exec) throw new Error('the demo pod has no exec');
    const variants: TamperedRequest[] = [injectEnv(create, 'EVIL=1'), swapLayer(create, 'e'.repeat(64)), execOther(exec, ['/bin/id'])];
    expect(valueAt(variants[0].request, variants[0].field)).toBe('EVIL=1');
    expect(valueAt(variants[1].request, variants[1].field)).toBe(`io.katacontainers.fs-opt.root-hash=${'e'.repeat(64)}`);
    expect(valueAt(create.request, variants[1].field)).toBe(`io.katacontainers.fs-opt.root-hash=${workload.layerPins[workload.layerPins.length - 1]}`);
    expect(valueAt(variants[2].request, variants[2].field)).toEqual(['/bin/id']);

    // Replay the genuine requests up to each target on a fresh agent: the variant is denied there.
    for (const variant of variants) {
      const target = variant.kind === 'ExecProcessRequest' ? exec : create;
      const agent = PolicyEnforcer.fromText(workload.policy.policy, { logger: quiet });
      for (const r of workload.requests.slice(0, workload.requests.indexOf(target))) agent.decide(r.kind, r.request);
      expect(agent.decide(variant.kind, variant.request).allowed, variant.what).toBe(false);
      expect(agent.decide(target.kind, target.request).allowed, `genuine ${target.kind}`).toBe(true);
    }
  });

  it('verifies the software-TEE report binding HOST_DATA and refuses another policy at appraisal', () => {
    const verified = result.steps.find((s) => /INSECURE software TEE/.test(s.step));
    expect(verified?.detail).toBe(`simulated=true host_data=${result.hostData}`);
    expect(result.steps.find((s) => /another policy/.test(s.step))?.detail).toMatch(/^HOST_DATA [0-9a-f]{64} is not an allowed value/);
    expect(result.steps.find((s) => /another policy/.test(s.step))?.detail).not.toContain(result.hostData);
  });

  it('releases the secret to the VM booted with HOST_DATA and refuses the tampered policy, never showing the value', () => {
    const names = result.steps.map((s) => s.step);
    const at = (re: RegExp) => names.findIndex((n) => re.test(n));
    expect(at(/start the attestation service and key broker/)).toBeGreaterThan(at(/appraisal refuses/));
    expect(at(/gets the secret/)).toBe(at(/start the attestation service/) + 1);
    expect(at(/tampered policy is refused/)).toBe(at(/gets the secret/) + 1);
    expect(result.released).toBe('default/key/demo-secret');
    expect(result.steps[at(/gets the secret/)].detail).toMatch(/^released default\/key\/demo-secret \(\d+ bytes, value not shown\)$/);
    expect(result.steps[at(/tampered policy/)].detail).toMatch(/403 PolicyDeny \(release_denied\)/);
    expect(JSON.stringify(result)).not.toContain(DEMO_SECRET.toString());
    expect(JSON.stringify(result)).not.toContain(DEMO_SECRET.toString('base64'));
    for (const s of result.steps) expect(s.ms).toBeGreaterThanOrEqual(0);
  });

  it('the build copies the built-in manifest next to the compiled demo', async () => {
    const out = await mkdtemp(join(tmpdir(), 'confcom-assets-'));
    try {
      const r = spawnSync(process.execPath, ['scripts/copy-assets.mjs', out], { cwd: REPO_ROOT, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const copied = join(out, 'demo', DEMO_MANIFEST_NAME);
      expect(existsSync(copied)).toBe(true);
      expect(readFileSync(copied, 'utf8')).toBe(readFileSync(join(REPO_ROOT, 'src', 'demo', DEMO_MANIFEST_NAME), 'utf8'));
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
