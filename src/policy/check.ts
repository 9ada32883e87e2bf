/**
 * Policies already embedded in manifests: their HOST_DATA (`policy hash`) and whether they still
 * match what the manifest generates (`policy check`, drift).
 */
import { InputError } from '../core/errors.js';
import type { ManifestFile } from '../k8s/manifest.js';
import { isRecord } from '../k8s/manifest.js';
import { SANDBOX_NAME } from './container.js';
import { embeddedPolicies } from './embedded.js';
import { DriftError } from './errors.js';
import { modelPods, policyText, type GenerateOptions } from './generate.js';
import type { JsonValue } from './policy-data.js';
import { parsePolicy } from './render.js';

export { embeddedPolicies, type EmbeddedPolicy } from './embedded.js';

export interface Difference {
  path: string;
  embedded: JsonValue | undefined;
  generated: JsonValue | undefined;
  /** The container whose part differs (its name). */
  container?: string;
  /** The variable that differs, as a person names it: `env DATABASE_URL`. */
  subject?: string;
}

const ENV_LISTS = new Set(['Env', 'EnvRegex']);

/** The variable name of an `Env` entry (`NAME=value`) or an `EnvRegex` entry (`^NAME=pattern$`). */
function envName(entry: JsonValue | undefined): string | undefined {
  if (typeof entry !== 'string') return undefined;
  const m = /^\^?((?:\\.|[^=\\])*)=/.exec(entry);
  return m ? m[1].replace(/\\(.)/g, '$1') : undefined;
}

/** Env lists compared by variable name, so a changed value is named by its variable, not a list position. */
function envDifference(a: JsonValue[], b: JsonValue[], path: string): Difference | undefined {
  const byName = (list: JsonValue[]) => new Map(list.map((e) => [envName(e) ?? JSON.stringify(e), e]));
  const ea = byName(a);
  const eb = byName(b);
  for (const name of [...new Set([...ea.keys(), ...eb.keys()])]) {
    if (JSON.stringify(ea.get(name)) !== JSON.stringify(eb.get(name))) return { path, embedded: ea.get(name), generated: eb.get(name), subject: `env ${name}` };
  }
  return a.length === b.length ? undefined : { path, embedded: a, generated: b };
}

/** The path and values of the first place two JSON documents differ, or undefined when equal. */
export function firstDifference(a: JsonValue | undefined, b: JsonValue | undefined, path = '', key = ''): Difference | undefined {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (ENV_LISTS.has(key)) return envDifference(a, b, path);
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d && key === 'containers' && isRecord(a[i]) && typeof (a[i] as Record<string, unknown>).name === 'string') return { ...d, container: String((a[i] as Record<string, unknown>).name) };
      if (d) return d;
    }
    return undefined;
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      const d = firstDifference(a[k] as JsonValue | undefined, b[k] as JsonValue | undefined, /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`, k);
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
    const generated = policyText(model, options.settings, options.rules);
    if (generated === found.policy) {
      results.push({ resource: name, hostData: found.hostData });
      continue;
    }
    const a = parsePolicy(found.policy, `${manifest.file} (${name})`);
    const b = parsePolicy(generated, 'the generated policy');
    if (a.rules !== b.rules) throw new DriftError(`${name}: the embedded policy's rules differ from this confcom's rules`, { location, hint: 'regenerate the policy with `confcom policy generate --in-place`' });
    const d = firstDifference(a.data, b.data, 'policy_data');
    const what = `${d?.container ? `container ${d.container}: ` : ''}${d?.subject ? `${d.subject} (${d.path})` : (d?.path ?? 'policy_data')}`;
    // The sandbox's image is settings' pause_image, not anything in the manifest: blaming the
    // manifest would send the user looking for an image they never wrote.
    const pause = d?.container === SANDBOX_NAME && /\.image$/.test(d.path);
    const source = pause ? 'from settings (pause_image, the sandbox image)' : 'from the manifest';
    throw new DriftError(`${name}: the embedded policy no longer matches ${pause ? 'the settings' : 'the manifest'}: ${what} is ${JSON.stringify(d?.embedded ?? null)} in the policy but ${JSON.stringify(d?.generated ?? null)} ${source}`, {
      location,
      hint: pause
        ? 'the sandbox (pause) image comes from settings key pause_image: pass the same --settings the policy was generated with, or regenerate with `confcom policy generate --in-place`'
        : 'review the change, then regenerate with `confcom policy generate --in-place`',
      details: { path: d?.path, ...(d?.container ? { container: d.container } : {}), ...(d?.subject ? { subject: d.subject } : {}) },
    });
  }
  return results;
}
