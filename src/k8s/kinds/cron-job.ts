/** CronJob: each run is a Job `<name>-<scheduled minute>`, whose pods are `<job>-<5 characters>`. */
import { escapeRegex, type WorkloadKind } from './kind.js';

export const cronJobKind: WorkloadKind = {
  kind: 'CronJob',
  templatePath: ['spec', 'jobTemplate', 'spec', 'template'],
  podName(resource) {
    return { regex: `^${escapeRegex(resource.name)}-[0-9]{1,12}-[a-z0-9]{5}$`, describe: `${resource.name}-<minute>-<5 characters>`, sample: `${resource.name}-29000000-x7k2q` };
  },
};
