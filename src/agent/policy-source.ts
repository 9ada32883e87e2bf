/**
 * Where a policy comes from on the command line: a Rego file, or a Kubernetes manifest carrying it in
 * the `io.katacontainers.config.agent.policy` annotation (base64 of the Rego text).
 */
import { parseAllDocuments } from 'yaml';
import { InputError } from '../core/errors.js';
import { readInputText } from '../core/fs.js';

export const POLICY_ANNOTATION = 'io.katacontainers.config.agent.policy';

export interface EmbeddedPolicy {
  /** Name of the resource carrying it (kind/name). */
  resource: string;
  document: number;
  text: string;
}

function collectAnnotations(node: unknown, out: string[]): void {
  if (Array.isArray(node)) node.forEach((n) => collectAnnotations(n, out));
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === POLICY_ANNOTATION && typeof value === 'string') out.push(value);
      else collectAnnotations(value, out);
    }
  }
}

/** Every policy annotation in a manifest stream, decoded. */
export function extractEmbeddedPolicies(yamlText: string, file: string): EmbeddedPolicy[] {
  const policies: EmbeddedPolicy[] = [];
  parseAllDocuments(yamlText).forEach((doc, index) => {
    if (doc.errors.length > 0) {
      throw new InputError('manifest_bad_yaml', `document ${index} is not valid YAML: ${doc.errors[0].message}`, { location: { file, document: index } });
    }
    const json = doc.toJSON() as { kind?: string; metadata?: { name?: string } } | null;
    const found: string[] = [];
    collectAnnotations(json, found);
    for (const b64 of found) {
      policies.push({ resource: `${json?.kind ?? '?'}/${json?.metadata?.name ?? '?'}`, document: index, text: Buffer.from(b64, 'base64').toString('utf8') });
    }
  });
  return policies;
}

function looksLikeManifest(text: string, file: string): boolean {
  if (/\.(ya?ml|json)$/i.test(file)) return true;
  return /^\s*(apiVersion|kind)\s*:/m.test(text) && !/^\s*package\s+/m.test(text);
}

/** Reads a policy from a .rego file or a manifest; `resource` picks one when a manifest holds several. */
export async function readPolicySource(file: string, resource?: string): Promise<{ text: string; from: string }> {
  const text = await readInputText(file);
  if (!looksLikeManifest(text, file)) return { text, from: file };
  const policies = extractEmbeddedPolicies(text, file);
  const chosen = resource ? policies.filter((p) => p.resource === resource || p.resource.endsWith(`/${resource}`)) : policies;
  if (chosen.length === 0) {
    throw new InputError('manifest_no_policy', resource ? `no policy annotation on '${resource}'` : `no '${POLICY_ANNOTATION}' annotation found`, {
      location: { file },
      hint: resource ? `resources with a policy: ${policies.map((p) => p.resource).join(', ') || 'none'}` : 'run `confcom policy generate` on the manifest first',
    });
  }
  if (new Set(chosen.map((p) => p.text)).size > 1) {
    throw new InputError('manifest_many_policies', `the manifest holds ${chosen.length} different policies`, {
      location: { file },
      hint: `choose one with --resource (one of: ${chosen.map((p) => p.resource).join(', ')})`,
    });
  }
  return { text: chosen[0].text, from: `${file} (${chosen[0].resource})` };
}
