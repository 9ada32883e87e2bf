/**
 * Policies already embedded in manifests: their HOST_DATA (`policy hash`) and whether they still
 * match what the manifest generates (`policy check`, drift).
 */
import { InputError } from '../core/errors.js';
import { getAt, isRecord, listResources, type ManifestFile } from '../k8s/manifest.js';
import { selectPodTemplate } from '../k8s/workloads.js';
import { AKS_ANNOTATION, INITDATA_ANNOTATION, decodePolicy, type PolicyFormat } from './formats.js';
import { DriftError } from './errors.js';
import { modelPods, policyText, type GenerateOptions } from './generate.js';
import type { JsonValue } from './policy-data.js';
import { parsePolicy } from './render.js';

export interface EmbeddedPolicy {
  file: string;
  document: number;
  resource: string;
  format: PolicyFormat;
  policy: string;
  hostData: string;
}

/** Every policy annotation on a policy-bearing object's pod template. */
export function embeddedPolicies(manifest: ManifestFile): EmbeddedPolicy[] {
  const out: EmbeddedPolicy[] = [];
  for (const resource of listResources(manifest)) {
    const selection = selectPodTemplate(resource, '', 'default');
    if (!selection || !('template' in selection)) continue;
    const annotations = getAt(selection.template.metadata, ['annotations']);
    if (!isRecord(annotations)) continue;
    const name = `${resource.kind}/${resource.name}`;
    for (const [key, format] of [[AKS_ANNOTATION, 'aks'], [INITDATA_ANNOTATION, 'initdata']] as const) {
      const value = annotations[key];
      if (typeof value !== 'string') continue;
      const decoded = decodePolicy(value, format, `${manifest.file} (${name})`);
      out.push({ file: manifest.file, document: resource.document, resource: name, format, ...decoded });
    }
  }
  return out;
}

/** The path and values of the first place two JSON documents differ, or undefined when equal. */
export function firstDifference(a: JsonValue | undefined, b: JsonValue | undefined, path = ''): { path: string; embedded: JsonValue | undefined; generated: JsonValue | undefined } | undefined {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      const d = firstDifference(a[k] as JsonValue | undefined, b[k] as JsonValue | undefined, /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`);
      if (d) return d;
    }
    return undefined;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? undefined : { path, embedded: a, generated: b };
}

export interface CheckResult {
  resource: string;
  hostData: string;
}

/** Regenerates each pod's policy and compares it with the embedded one; throws DriftError on the first difference. */
export async function checkDrift(manifest: ManifestFile, options: GenerateOptions): Promise<CheckResult[]> {
  const embedded = embeddedPolicies(manifest);
  const { pods } = await modelPods([manifest], options);
  if (pods.length === 0) throw new InputError('manifest_no_pods', `${manifest.file} has no pod template this runtime class applies to`, { location: { file: manifest.file }, hint: 'check --runtime-class and the runtimeClassName of the pods' });
  const results: CheckResult[] = [];
  for (const { template, model } of pods) {
    const name = `${template.resource.kind}/${template.resource.name}`;
    const location = { file: manifest.file, document: template.resource.document };
    const found = embedded.find((e) => e.document === template.resource.document && e.resource === name);
    if (!found) throw new DriftError(`${name} has no embedded policy`, { location, hint: 'run `confcom policy generate --in-place` on the manifest' });
    const generated = policyText(model, options.settings);
    if (generated === found.policy) {
      results.push({ resource: name, hostData: found.hostData });
      continue;
    }
    const a = parsePolicy(found.policy, `${manifest.file} (${name})`);
    const b = parsePolicy(generated, 'the generated policy');
    if (a.rules !== b.rules) throw new DriftError(`${name}: the embedded policy's rules differ from this confcom's rules`, { location, hint: 'regenerate the policy with `confcom policy generate --in-place`' });
    const d = firstDifference(a.data, b.data, 'policy_data');
    throw new DriftError(`${name}: the embedded policy no longer matches the manifest: ${d?.path ?? 'policy_data'} is ${JSON.stringify(d?.embedded)} in the policy but ${JSON.stringify(d?.generated)} from the manifest`, {
      location,
      hint: 'review the change, then regenerate with `confcom policy generate --in-place`',
      details: { path: d?.path },
    });
  }
  return results;
}
