/**
 * `policy generate` as a library: manifests in, a policy per pod template out, written into the
 * template's annotations (the rest of the stream untouched). Nothing is written here; the caller
 * decides where the text goes, so a failure never leaves a half-written file.
 */
import { loadManifest, listResources, setAnnotation, type ManifestFile } from '../k8s/manifest.js';
import { ConfigStore } from '../k8s/configs.js';
import { selectPodTemplate, type PodTemplate } from '../k8s/workloads.js';
import { AKS_ANNOTATION, INITDATA_ANNOTATION, encodePolicy, type PolicyFormat } from './formats.js';
import type { ImageResolver } from './images.js';
import { buildPodModel, type PodModel } from './pod.js';
import { policyData } from './policy-data.js';
import { renderPolicy } from './render.js';
import type { Settings } from './settings.js';

export interface GenerateOptions {
  settings: Settings;
  images: ImageResolver;
  format?: PolicyFormat;
  /** Extra ConfigMaps and Secrets (`--config-file`). */
  configFiles?: ManifestFile[];
  /** Runtime classes that get a policy (names, or `prefix*`; empty: every pod); default: the settings'. */
  runtimeClass?: readonly string[];
  strict?: boolean;
}

export interface GeneratedPolicy {
  file: string;
  document: number;
  /** `Deployment/web` */
  resource: string;
  policy: string;
  format: PolicyFormat;
  annotation: string;
  /** HOST_DATA, lower-case hex. */
  hostData: string;
  warnings: string[];
  /** Secret-backed environment variables (allowed with any value). */
  secretVariables: number;
}

export interface PodEntry {
  manifest: ManifestFile;
  template: PodTemplate;
  model: PodModel;
}

export interface Modelled {
  pods: PodEntry[];
  /** Workloads left alone, with the reason. */
  skipped: string[];
}

/** ConfigMaps and Secrets from every input stream. */
export function collectConfigs(manifests: readonly ManifestFile[], defaultNamespace: string): ConfigStore {
  const store = new ConfigStore(defaultNamespace);
  for (const m of manifests) for (const r of listResources(m)) store.add(r);
  return store;
}

/** The pod model of every policy-bearing object of the streams, in stream order. */
export async function modelPods(manifests: readonly ManifestFile[], options: GenerateOptions): Promise<Modelled> {
  const { settings } = options;
  const configs = collectConfigs([...manifests, ...(options.configFiles ?? [])], settings.default_namespace);
  const runtimeClass = options.runtimeClass ?? settings.runtime_classes;
  const pods: PodEntry[] = [];
  const skipped: string[] = [];
  for (const manifest of manifests) {
    for (const resource of listResources(manifest)) {
      const selection = selectPodTemplate(resource, runtimeClass, settings.default_namespace);
      if (selection === undefined) continue;
      if ('skipped' in selection) {
        skipped.push(selection.skipped);
        continue;
      }
      const model = await buildPodModel(selection.template, { settings, configs, images: options.images, strict: options.strict });
      pods.push({ manifest, template: selection.template, model });
    }
  }
  return { pods, skipped };
}

export function policyText(model: PodModel, settings: Settings): string {
  return renderPolicy(policyData(model, settings));
}

/** Generates every pod's policy and sets its annotation (removing the other format's). */
export async function generatePolicies(manifests: readonly ManifestFile[], options: GenerateOptions): Promise<{ policies: GeneratedPolicy[]; skipped: string[] }> {
  const format = options.format ?? 'aks';
  const { pods, skipped } = await modelPods(manifests, options);
  const policies = pods.map(({ manifest, template, model }): GeneratedPolicy => {
    const policy = policyText(model, options.settings);
    const encoded = encodePolicy(policy, format);
    const metadataPath = [...template.templatePath, 'metadata'];
    setAnnotation(manifest, template.resource, metadataPath, encoded.annotation, encoded.value);
    setAnnotation(manifest, template.resource, metadataPath, format === 'aks' ? INITDATA_ANNOTATION : AKS_ANNOTATION, undefined);
    return {
      file: manifest.file,
      document: template.resource.document,
      resource: `${template.resource.kind}/${template.resource.name}`,
      policy,
      format,
      annotation: encoded.annotation,
      hostData: encoded.hostData,
      warnings: model.warnings,
      secretVariables: model.secretVariables,
    };
  });
  return { policies, skipped };
}

export async function loadManifests(files: readonly string[]): Promise<ManifestFile[]> {
  const out: ManifestFile[] = [];
  for (const f of files) out.push(await loadManifest(f));
  return out;
}
