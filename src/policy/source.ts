/**
 * Where a policy comes from on the command line (`policy replay|explain --policy`): a Rego file, or a
 * Kubernetes manifest carrying it in any format's annotation (aks or initdata), read by embedded.ts.
 */
import { InputError } from '../core/errors.js';
import { readInputText } from '../core/fs.js';
import { parseManifest } from '../k8s/manifest.js';
import { embeddedPolicies } from './embedded.js';
import { FORMATS } from './formats/index.js';

function looksLikeManifest(text: string, file: string): boolean {
  if (/\.(ya?ml|json)$/i.test(file)) return true;
  return /^\s*(apiVersion|kind)\s*:/m.test(text) && !/^\s*package\s+/m.test(text);
}

export interface PolicySource {
  text: string;
  /** For messages: the file, and the resource when it came from a manifest. */
  from: string;
  /** HOST_DATA of the policy as it was embedded (the initdata TOML's hash for initdata). */
  hostData?: string;
}

/** Reads a policy from a .rego file or a manifest; `resource` picks one when a manifest holds several. */
export async function readPolicySource(file: string, resource?: string): Promise<PolicySource> {
  const text = await readInputText(file);
  if (!looksLikeManifest(text, file)) return { text, from: file };
  const policies = embeddedPolicies(parseManifest(text, file));
  const chosen = resource ? policies.filter((p) => p.resource === resource || p.resource.endsWith(`/${resource}`)) : policies;
  if (chosen.length === 0) {
    throw new InputError('manifest_no_policy', resource ? `no policy annotation on '${resource}'` : `no policy annotation (${FORMATS.map((f) => f.annotation).join(' or ')}) found`, {
      location: { file },
      hint: resource ? `resources with a policy: ${policies.map((p) => p.resource).join(', ') || 'none'}` : 'run `confcom policy generate` on the manifest first',
    });
  }
  if (new Set(chosen.map((p) => p.policy)).size > 1) {
    throw new InputError('manifest_many_policies', `the manifest holds ${chosen.length} different policies`, {
      location: { file },
      hint: `choose one with --resource (one of: ${chosen.map((p) => p.resource).join(', ')})`,
    });
  }
  return { text: chosen[0].policy, from: `${file} (${chosen[0].resource})`, hostData: chosen[0].hostData };
}
