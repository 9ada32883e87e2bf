/** DaemonSet: pods are `<name>-<5 characters>` (generateName). */
import { generatedName, type WorkloadKind } from './kind.js';

export const daemonSetKind: WorkloadKind = {
  kind: 'DaemonSet',
  templatePath: ['spec', 'template'],
  podName(resource) {
    return generatedName(`${resource.name}-`, `${resource.name}-<5 characters>`);
  },
};
