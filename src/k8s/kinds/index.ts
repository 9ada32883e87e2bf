/** The policy-bearing kinds, one module each. Every other kind passes through untouched. */
import type { WorkloadKind } from './kind.js';
import { podKind } from './pod.js';
import { deploymentKind } from './deployment.js';
import { replicaSetKind } from './replica-set.js';
import { replicationControllerKind } from './replication-controller.js';
import { daemonSetKind } from './daemon-set.js';
import { statefulSetKind } from './stateful-set.js';
import { jobKind } from './job.js';
import { cronJobKind } from './cron-job.js';

export type { WorkloadKind, PodNamePattern } from './kind.js';
export { escapeRegex } from './kind.js';

export const WORKLOAD_KINDS: readonly WorkloadKind[] = [podKind, deploymentKind, replicaSetKind, replicationControllerKind, daemonSetKind, statefulSetKind, jobKind, cronJobKind];

const BY_KIND = new Map(WORKLOAD_KINDS.map((k) => [k.kind, k]));

export function workloadKind(kind: string): WorkloadKind | undefined {
  return BY_KIND.get(kind);
}
