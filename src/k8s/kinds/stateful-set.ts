/** StatefulSet: pods are `<name>-<ordinal>`; each mounts the claims of its volumeClaimTemplates. */
import { isRecord } from '../manifest.js';
import { escapeRegex, type WorkloadKind } from './kind.js';

export const statefulSetKind: WorkloadKind = {
  kind: 'StatefulSet',
  templatePath: ['spec', 'template'],
  podName(resource) {
    return { regex: `^${escapeRegex(resource.name)}-(0|[1-9][0-9]*)$`, describe: `${resource.name}-<ordinal>`, sample: `${resource.name}-0` };
  },
  claimTemplates(resource) {
    const spec = isRecord(resource.value.spec) ? resource.value.spec : {};
    const templates = Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : [];
    return templates.flatMap((t) => (isRecord(t) && isRecord(t.metadata) && typeof t.metadata.name === 'string' ? [t.metadata.name] : []));
  },
};
