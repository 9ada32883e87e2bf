/**
 * The output formats, one module each. `generate`, `hash`, `check`, `replay` and `explain` all go
 * through this table; a new format is one module and one line here.
 */
import { aksFormat } from './aks.js';
import type { DecodedPolicy, EncodedPolicy, PolicyFormatModule } from './format.js';
import { initdataFormat } from './initdata.js';

export type { EncodedPolicy, DecodedPolicy, PolicyFormatModule } from './format.js';
export { AKS_ANNOTATION } from './aks.js';
export { INITDATA_ANNOTATION, INITDATA_VERSION, initdataToml, policyFromToml } from './initdata.js';
export { sha256Hex } from '../../core/hash.js';

export const FORMATS = [aksFormat, initdataFormat] as const;

export type PolicyFormat = (typeof FORMATS)[number]['name'];
export const POLICY_FORMATS: readonly PolicyFormat[] = FORMATS.map((f) => f.name);

export function formatModule(format: PolicyFormat): PolicyFormatModule {
  const found = FORMATS.find((f) => f.name === format);
  if (!found) throw new Error(`no policy format '${format}'`);
  return found;
}

export const annotationFor = (format: PolicyFormat): string => formatModule(format).annotation;

export function encodePolicy(policy: string, format: PolicyFormat): EncodedPolicy {
  return formatModule(format).encode(policy);
}

/** The policy text and HOST_DATA from an annotation value. */
export function decodePolicy(value: string, format: PolicyFormat, origin: string): DecodedPolicy {
  return formatModule(format).decode(value, origin);
}

/** The policies carried in one annotations mapping, in table order, with their format. */
export function policiesInAnnotations(annotations: Record<string, unknown>, origin: string): (DecodedPolicy & { format: PolicyFormat })[] {
  const out: (DecodedPolicy & { format: PolicyFormat })[] = [];
  for (const f of FORMATS) {
    const value = annotations[f.annotation];
    if (typeof value === 'string') out.push({ format: f.name, ...f.decode(value, origin) });
  }
  return out;
}
