/**
 * The one reader of policies already embedded in manifests, for `policy hash`, `check`, `replay` and
 * `explain`: every format's annotation (see formats/) on each object's pod template, decoded.
 */
import { getAt, isRecord, listResources, type ManifestFile } from '../k8s/manifest.js';
import { workloadKind } from '../k8s/kinds/index.js';
import { policiesInAnnotations, type PolicyFormat } from './formats/index.js';

export interface EmbeddedPolicy {
  file: string;
  document: number;
  /** `Deployment/web` */
  resource: string;
  format: PolicyFormat;
  policy: string;
  hostData: string;
}

/** Annotation mappings anywhere under `node` (for kinds confcom does not know, e.g. a CRD's pod template). */
function annotationMaps(node: unknown, out: Record<string, unknown>[]): void {
  if (Array.isArray(node)) node.forEach((n) => annotationMaps(n, out));
  else if (isRecord(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'annotations' && isRecord(value)) out.push(value);
      else annotationMaps(value, out);
    }
  }
}

/** Every policy annotation of the stream: on a workload's pod template, or anywhere in an object of another kind. */
export function embeddedPolicies(manifest: ManifestFile): EmbeddedPolicy[] {
  const out: EmbeddedPolicy[] = [];
  for (const resource of listResources(manifest)) {
    const kind = workloadKind(resource.kind);
    const maps: Record<string, unknown>[] = [];
    if (kind) {
      const annotations = getAt(resource.value, [...kind.templatePath, 'metadata', 'annotations']);
      if (isRecord(annotations)) maps.push(annotations);
    } else annotationMaps(resource.value, maps);
    const name = `${resource.kind || '?'}/${resource.name || '?'}`;
    for (const annotations of maps) {
      for (const decoded of policiesInAnnotations(annotations, `${manifest.file} (${name})`)) {
        out.push({ file: manifest.file, document: resource.document, resource: name, ...decoded });
      }
    }
  }
  return out;
}
