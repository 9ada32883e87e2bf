/**
 * `policy generate` as a library: manifests in, a policy per pod template out, written into the
 * template's annotations (the rest of the stream untouched). Nothing is written here; the caller
 * decides where the text goes, so a failure never leaves a half-written file.
 */
import { InputError } from '../core/errors.js';
import { listResources, setAnnotation, getAt, isRecord, type ManifestFile, type Resource } from '../k8s/manifest.js';
import { ConfigStore } from '../k8s/configs.js';
import { runtimeClassMatches, selectPodTemplate, type PodTemplate } from '../k8s/workloads.js';
import { FORMATS, encodePolicy, type PolicyFormat } from './formats/index.js';
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
  /** Rego rules to use instead of ours (`--rules FILE`). */
  rules?: string;
}

/** Kubernetes' limit on the total size of an object's annotations (keys + values), 256 KiB. */
export const ANNOTATIONS_LIMIT = 256 * 1024;

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
      if (selection === undefined) {
        const unknown = confidentialPodTemplate(resource, runtimeClass);
        if (unknown) skipped.push(`${resource.kind}/${resource.name}: kind '${resource.kind}' is not one confcom knows, but its pod template at ${unknown.path} asks for runtime class '${unknown.runtimeClass}'; its pods get no policy (generate for the Pod or workload it creates)`);
        continue;
      }
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

/**
 * A pod template (a mapping with `spec.runtimeClassName`) anywhere in an object of a kind confcom does
 * not know (an operator's custom resource, say), when its runtime class is one that gets a policy.
 */
function confidentialPodTemplate(resource: Resource, runtimeClass: readonly string[]): { path: string; runtimeClass: string } | undefined {
  if (runtimeClass.length === 0) return undefined;
  const visit = (node: unknown, path: string): { path: string; runtimeClass: string } | undefined => {
    if (Array.isArray(node)) {
      for (const [i, n] of node.entries()) {
        const found = visit(n, `${path}[${i}]`);
        if (found) return found;
      }
      return undefined;
    }
    if (!isRecord(node)) return undefined;
    const spec = node.spec;
    if (isRecord(spec) && typeof spec.runtimeClassName === 'string' && Array.isArray(spec.containers) && runtimeClassMatches(spec.runtimeClassName, runtimeClass)) {
      return { path: path === '' ? 'spec' : `${path}.spec`, runtimeClass: spec.runtimeClassName };
    }
    for (const [k, v] of Object.entries(node)) {
      const found = visit(v, path === '' ? k : `${path}.${k}`);
      if (found) return found;
    }
    return undefined;
  };
  return visit(resource.value, '');
}

export function policyText(model: PodModel, settings: Settings, rules?: string): string {
  return renderPolicy(policyData(model, settings), rules);
}

/** The bytes Kubernetes counts against the annotation limit: every key and value of the mapping. */
function annotationsSize(annotations: unknown): number {
  if (!isRecord(annotations)) return 0;
  let total = 0;
  for (const [k, v] of Object.entries(annotations)) total += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
  return total;
}

/** Generates every pod's policy and sets its annotation (removing the other format's). */
export async function generatePolicies(manifests: readonly ManifestFile[], options: GenerateOptions): Promise<{ policies: GeneratedPolicy[]; skipped: string[] }> {
  const format = options.format ?? 'aks';
  const { pods, skipped } = await modelPods(manifests, options);
  const policies = pods.map(({ manifest, template, model }): GeneratedPolicy => {
    const policy = policyText(model, options.settings, options.rules);
    const encoded = encodePolicy(policy, format);
    const metadataPath = [...template.templatePath, 'metadata'];
    const name = `${template.resource.kind}/${template.resource.name}`;
    const others = Object.fromEntries(FORMATS.filter((f) => f.annotation !== encoded.annotation).map((f) => [f.annotation, undefined]));
    const size = annotationsSize({ ...(getAt(template.resource.value, [...metadataPath, 'annotations']) as object | undefined), ...others, [encoded.annotation]: encoded.value });
    if (size > ANNOTATIONS_LIMIT) {
      throw new InputError('policy_too_large', `${name}: the pod template's annotations would be ${size.toLocaleString('en-US')} bytes with the policy (${Buffer.byteLength(encoded.value).toLocaleString('en-US')} bytes), over Kubernetes' limit of ${ANNOTATIONS_LIMIT.toLocaleString('en-US')} bytes (256 KiB)`, {
        location: { file: manifest.file, document: template.resource.document },
        hint: `the API server would reject ${name}; split the pod${format === 'aks' ? ', or use --format initdata (gzip-compressed)' : ''}`,
      });
    }
    setAnnotation(manifest, template.resource, metadataPath, encoded.annotation, encoded.value);
    for (const other of Object.keys(others)) setAnnotation(manifest, template.resource, metadataPath, other, undefined);
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

export { STDIN_NAME, expandInputs, loadManifests } from './inputs.js';
