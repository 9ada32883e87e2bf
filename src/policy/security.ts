/**
 * What a container's securityContext does to its OCI process: capabilities (containerd's order: add
 * ALL, drop ALL, add each, drop each; privileged containers get every capability), no_new_privs,
 * read-only root, and the masked and read-only /proc and /sys paths that privileged containers lose.
 */
import { isRecord } from '../k8s/manifest.js';
import type { Settings } from './settings.js';

export interface Capabilities {
  Ambient: string[];
  Bounding: string[];
  Effective: string[];
  Inheritable: string[];
  Permitted: string[];
}

export interface SecurityModel {
  privileged: boolean;
  capabilities: Capabilities;
  noNewPrivileges: boolean;
  readonlyRoot: boolean;
  runAsUser?: number;
  runAsGroup?: number;
}

const capName = (c: string) => {
  const upper = c.toUpperCase();
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
};

function capabilitySet(sc: Record<string, unknown>, settings: Settings): string[] {
  const caps = isRecord(sc.capabilities) ? sc.capabilities : {};
  const add = Array.isArray(caps.add) ? caps.add.map(String) : [];
  const drop = Array.isArray(caps.drop) ? caps.drop.map(String) : [];
  let set = [...settings.capabilities.default];
  if (add.some((c) => c.toUpperCase() === 'ALL')) set = [...settings.capabilities.privileged];
  if (drop.some((c) => c.toUpperCase() === 'ALL')) set = [];
  for (const c of add) if (c.toUpperCase() !== 'ALL' && !set.includes(capName(c))) set.push(capName(c));
  const dropped = new Set(drop.filter((c) => c.toUpperCase() !== 'ALL').map(capName));
  return set.filter((c) => !dropped.has(c));
}

const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);

/** The container's security model; `podSc` is the pod's securityContext (user and group fall back to it). */
export function securityModel(containerSc: unknown, podSc: unknown, settings: Settings): SecurityModel {
  const sc = isRecord(containerSc) ? containerSc : {};
  const pod = isRecord(podSc) ? podSc : {};
  const privileged = sc.privileged === true;
  const set = privileged ? [...settings.capabilities.privileged] : capabilitySet(sc, settings);
  const runAsUser = int(sc.runAsUser) ?? int(pod.runAsUser);
  const runAsGroup = int(sc.runAsGroup) ?? int(pod.runAsGroup);
  return {
    privileged,
    capabilities: { Ambient: [], Bounding: set, Effective: [...set], Inheritable: [], Permitted: [...set] },
    noNewPrivileges: !privileged && sc.allowPrivilegeEscalation === false,
    readonlyRoot: sc.readOnlyRootFilesystem === true,
    ...(runAsUser === undefined ? {} : { runAsUser }),
    ...(runAsGroup === undefined ? {} : { runAsGroup }),
  };
}

export function podGroups(podSc: unknown): { supplementalGroups: number[]; fsGroup?: number } {
  const pod = isRecord(podSc) ? podSc : {};
  const groups = Array.isArray(pod.supplementalGroups) ? pod.supplementalGroups.flatMap((g) => (int(g) === undefined ? [] : [g as number])) : [];
  const fsGroup = int(pod.fsGroup);
  return { supplementalGroups: groups, ...(fsGroup === undefined ? {} : { fsGroup }) };
}

/** Pod-level sysctls (securityContext.sysctls), applied to the sandbox. */
export function podSysctls(podSc: unknown): Record<string, string> {
  const pod = isRecord(podSc) ? podSc : {};
  const out: Record<string, string> = {};
  for (const s of Array.isArray(pod.sysctls) ? pod.sysctls : []) if (isRecord(s) && typeof s.name === 'string') out[s.name] = String(s.value ?? '');
  return out;
}
