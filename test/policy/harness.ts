/**
 * Shared set-up for the policy tests: the example images in a temporary OCI layout, a resolver with
 * its own layer cache, and helpers that generate, simulate and replay one manifest file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';
import { loadSettings, type Settings } from '../../src/policy/settings.js';
import { OciImageResolver } from '../../src/policy/images.js';
import { generatePolicies, loadManifests, modelPods, type GenerateOptions, type GeneratedPolicy } from '../../src/policy/generate.js';
import { simulatePod, type SimulatedRequest } from '../../src/policy/simulate.js';
import type { ManifestFile } from '../../src/k8s/manifest.js';
import { writeExampleLayout } from './test-images.js';

export const EXAMPLES_DIR = join(REPO_ROOT, 'examples');
export const EXAMPLE_FILES = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.yaml')).sort();

export interface Harness {
  dir: string;
  layout: string;
  cache: string;
  settings: Settings;
  options(extra?: Partial<GenerateOptions>): GenerateOptions;
  /** CLI flags that make the CLI read the same images. */
  imageFlags: string[];
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'confcom-policy-'));
  const layout = join(dir, 'layout');
  const cache = join(dir, 'cache');
  await writeExampleLayout(layout);
  const settings = await loadSettings();
  const images = new OciImageResolver({ imageSource: `oci-layout:${layout}`, cacheDir: cache });
  return {
    dir,
    layout,
    cache,
    settings,
    options: (extra = {}) => ({ settings, images, ...extra }),
    imageFlags: ['--image-source', `oci-layout:${layout}`, '--cache', cache],
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface PodRun {
  resource: string;
  policy: GeneratedPolicy;
  requests: SimulatedRequest[];
}

/** Generates every pod's policy of one example file and simulates its requests. */
export async function runExample(h: Harness, file: string, extra: Partial<GenerateOptions> = {}): Promise<{ manifests: ManifestFile[]; pods: PodRun[] }> {
  const manifests = await loadManifests([join(EXAMPLES_DIR, file)]);
  const { policies } = await generatePolicies(manifests, h.options(extra));
  const { pods } = await modelPods(manifests, h.options(extra));
  return {
    manifests,
    pods: pods.map((p, i) => ({ resource: `${p.template.resource.kind}/${p.template.resource.name}`, policy: policies[i], requests: simulatePod(p.model, extra.settings ?? h.settings) })),
  };
}
