/** Deployment: pods are `<name>-<pod-template-hash>-<5 characters>` (through a ReplicaSet). */
import { escapeRegex, type WorkloadKind } from './kind.js';

export const deploymentKind: WorkloadKind = {
  kind: 'Deployment',
  templatePath: ['spec', 'template'],
  podName(resource) {
    // The ReplicaSet is `<name>-<hash>` (hash: up to 10 safe-encoded characters); its pods add 5 more.
    return { regex: `^${escapeRegex(resource.name)}-[a-z0-9]{1,10}-[a-z0-9]{5}$`, describe: `${resource.name}-<hash>-<5 characters>`, sample: `${resource.name}-6d4cf56db6-x7k2q` };
  },
};
