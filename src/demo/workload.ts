/**
 * The demo's workload side: the built-in manifest (`demo-app.yaml`, shipped next to this module) run
 * through the policy generator against the built-in image's OCI layout, exactly as
 * `confcom policy generate --image-source oci-layout:DIR` would, plus the requests the Kata
 * runtime would send for its pod.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../core/errors.js';
import { parseManifest, type ManifestFile } from '../k8s/manifest.js';
import { OciImageResolver, generatePolicies, loadSettings, modelPods, simulatePod, type GeneratedPolicy, type SimulatedRequest } from '../policy/index.js';

export const DEMO_MANIFEST_NAME = 'demo-app.yaml';

/** The built-in manifest's text and the path it is read from (next to the built module, in src/ or dist/). */
export async function readDemoManifest(): Promise<{ path: string; text: string }> {
  const path = fileURLToPath(new URL(`./${DEMO_MANIFEST_NAME}`, import.meta.url));
  try {
    return { path, text: await readFile(path, 'utf8') };
  } catch (cause) {
    throw new InputError('demo_manifest_missing', `the demo's built-in manifest is missing: ${path}`, {
      location: { file: path },
      hint: 'rebuild confcom (`npm run build` copies src/demo/*.yaml into dist/demo/)',
      cause,
    });
  }
}

export interface DemoWorkload {
  /** The manifest with the policy annotation written into the pod template. */
  manifest: ManifestFile;
  policy: GeneratedPolicy;
  /** dm-verity root hashes of the image's layers, bottom to top, as the resolver pinned them. */
  layerPins: string[];
  /** Every request the runtime would send for the pod, in order, with the decision each should get. */
  requests: SimulatedRequest[];
}

/** Generates the pod's policy from the image in `layoutDir`; the layer pin cache lives in `workDir`. */
export async function generateDemoWorkload(imageRef: string, layoutDir: string, workDir: string): Promise<DemoWorkload> {
  const { text } = await readDemoManifest();
  // The stream is named by its bare file name: the simulated IDs derive from it, so they do not
  // depend on where confcom is installed.
  const manifest = parseManifest(text, DEMO_MANIFEST_NAME);
  const settings = await loadSettings();
  // With an image source set, src/oci reads only that layout: no registry is ever contacted. (Its
  // `offline` switch would forbid pinning the layout's layers into the fresh cache, so it stays off.)
  const images = new OciImageResolver({ imageSource: `oci-layout:${layoutDir}`, cacheDir: join(workDir, 'cache') });
  const options = { settings, images };
  const { policies } = await generatePolicies([manifest], options);
  const { pods } = await modelPods([manifest], options);
  if (policies.length !== 1 || pods.length !== 1) {
    throw new InputError('demo_manifest_pods', `the demo manifest must hold exactly one confidential pod template, found ${policies.length}`, { location: { file: DEMO_MANIFEST_NAME } });
  }
  const image = await images.resolve(imageRef);
  return { manifest, policy: policies[0], layerPins: image.layers.map((l) => l.rootHash), requests: simulatePod(pods[0].model, settings) };
}
