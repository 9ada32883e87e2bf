/**
 * The same example pulled from a real registry (Debian's docker-registry on loopback) instead of an
 * OCI layout: generation succeeds, pins the same layers, and the policy allows the pod's requests.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTool } from '../helpers/tools.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { PolicyEnforcer } from '../../src/agent/index.js';
import { loadManifests, generatePolicies, modelPods } from '../../src/policy/generate.js';
import { OciImageResolver } from '../../src/policy/images.js';
import { parsePolicy } from '../../src/policy/render.js';
import { simulatePod } from '../../src/policy/simulate.js';
import { EXAMPLE_IMAGES, buildImage } from './test-images.js';
import { EXAMPLES_DIR, runExample, startHarness, type Harness } from './harness.js';

const enabled = hasTool('docker-registry');
let registry: TestRegistry | undefined;
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  if (!enabled) return;
  registry = await startRegistry();
  for (const spec of EXAMPLE_IMAGES) await registry.push(spec.tag === '3.9' ? 'pause' : `confcom/${spec.tag.split('-')[0]}`, spec.tag, buildImage(spec));
});
afterAll(async () => {
  await registry?.stop();
  await h?.close();
});

const layersOf = (policy: string) => (parsePolicy(policy, 't').data as { containers: { storages: { options: string[] }[] }[] }).containers.map((c) => c.storages.map((s) => s.options.at(-1)));

describe.skipIf(!enabled)('images from a registry', () => {
  it('generates the same layer pins as from the OCI layout, and the policy allows the pod', async () => {
    const host = registry!.host;
    const text = (await readFile(join(EXAMPLES_DIR, 'deployment.yaml'), 'utf8')).replace(/confcom\.example\//g, `${host}/confcom/`);
    const file = join(h.dir, 'deployment-registry.yaml');
    await writeFile(file, text);
    const settings = { ...h.settings, pause_image: `${host}/pause:3.9` };
    const images = new OciImageResolver({ insecureRegistries: [host], cacheDir: join(h.dir, 'registry-cache') });
    const manifests = await loadManifests([file]);
    const { policies } = await generatePolicies(manifests, { settings, images });
    const { pods } = await modelPods(manifests, { settings, images });
    const enforcer = PolicyEnforcer.fromText(policies[0].policy, { syntax: 'v1' });
    for (const r of simulatePod(pods[0].model, settings)) expect(enforcer.decide(r.kind, r.request).allowed, r.kind).toBe(true);
    const fromLayout = await runExample(h, 'deployment.yaml');
    expect(layersOf(policies[0].policy)).toEqual(layersOf(fromLayout.pods[0].policy.policy));
    expect(policies[0].policy).toContain(`${host}/confcom/web:web-1.0`);
  });
});
