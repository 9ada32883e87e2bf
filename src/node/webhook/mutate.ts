/**
 * The admission decision for one pod (admission.k8s.io/v1): pods that ask for EPC and carry the opt-in
 * annotation get `SGX_AESM_ADDR=1` and the `/var/run/aesmd` hostPath volume and mount (what Intel's
 * libsgx-quote-ex needs to use the node's quote helper) as a JSON Patch; a pod that asks for more EPC
 * than a node of the pool has is refused with a message saying so, since it could never be scheduled.
 */
import { AZURE_EPC_RESOURCE, INTEL_EPC_RESOURCE, MIB } from '../sgx/resources.js';
import { parseQuantity } from './quantity.js';

export const OPT_IN_ANNOTATION = 'confcom.io/sgx-quote-helper';
export const AESMD_DIR = '/var/run/aesmd';
export const AESMD_VOLUME = 'confcom-aesmd';

export interface JsonPatchOp {
  op: 'add';
  path: string;
  value: unknown;
}

export interface WebhookConfig {
  /** EPC of one node of the pool, in bytes; undefined: no size check. */
  epcBytes?: number;
}

interface ContainerLike {
  name?: string;
  env?: { name?: string }[];
  volumeMounts?: { mountPath?: string }[];
  resources?: { limits?: Record<string, unknown>; requests?: Record<string, unknown> };
}

interface PodLike {
  metadata?: { name?: string; generateName?: string; annotations?: Record<string, string> };
  spec?: { containers?: ContainerLike[]; initContainers?: ContainerLike[]; volumes?: { name?: string; hostPath?: { path?: string } }[] };
}

export type Decision = { allowed: true; patch: JsonPatchOp[]; warnings?: string[] } | { allowed: false; code: number; message: string };

/** JSON Pointer escaping of one path segment. */
const seg = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** EPC a container asks for, in bytes (limits win over requests, as the scheduler treats extended resources). */
function containerEpc(c: ContainerLike): { bytes: number; resource: string } | { invalid: string } | undefined {
  for (const [resource, unit] of [[AZURE_EPC_RESOURCE, MIB], [INTEL_EPC_RESOURCE, 1]] as const) {
    const raw = c.resources?.limits?.[resource] ?? c.resources?.requests?.[resource];
    if (raw === undefined) continue;
    const n = parseQuantity(raw);
    if (n === undefined) return { invalid: `${resource}: '${String(raw)}' is not a whole-number quantity` };
    return { bytes: n * unit, resource };
  }
  return undefined;
}

const mib = (bytes: number): string => `${Math.ceil(bytes / MIB)} MiB`;

export function decide(pod: PodLike, config: WebhookConfig): Decision {
  const containers = pod.spec?.containers ?? [];
  const inits = pod.spec?.initContainers ?? [];
  const asking: { list: 'containers' | 'initContainers'; index: number; container: ContainerLike }[] = [];
  let running = 0;
  let initPeak = 0;
  /** The EPC resources the pod names, for the hint of a refusal. */
  const resources = new Set<string>();
  for (const [list, items] of [['containers', containers], ['initContainers', inits]] as const) {
    for (const [index, container] of items.entries()) {
      const epc = containerEpc(container);
      if (!epc) continue;
      const where = `${list === 'containers' ? 'container' : 'init container'} '${container.name ?? index}'`;
      if ('invalid' in epc) return { allowed: false, code: 400, message: `${where}: ${epc.invalid}` };
      asking.push({ list, index, container });
      resources.add(epc.resource);
      if (list === 'containers') running += epc.bytes;
      else initPeak = Math.max(initPeak, epc.bytes);
    }
  }
  if (asking.length === 0) return { allowed: true, patch: [] };
  const podEpc = Math.max(running, initPeak);
  if (config.epcBytes !== undefined && podEpc > config.epcBytes) {
    return {
      allowed: false, code: 403,
      message: `the pod asks for ${mib(podEpc)} of SGX EPC but a node of this pool has ${mib(config.epcBytes)}; it could never be scheduled (lower ${[...resources].join(' and ')} or use a larger VM size)`,
    };
  }
  if (pod.metadata?.annotations?.[OPT_IN_ANNOTATION] !== 'true') return { allowed: true, patch: [] };

  const patch: JsonPatchOp[] = [];
  const volumes = pod.spec?.volumes;
  if (!volumes?.some((v) => v.name === AESMD_VOLUME || v.hostPath?.path === AESMD_DIR)) {
    const volume = { name: AESMD_VOLUME, hostPath: { path: AESMD_DIR, type: 'DirectoryOrCreate' } };
    patch.push(volumes ? { op: 'add', path: '/spec/volumes/-', value: volume } : { op: 'add', path: '/spec/volumes', value: [volume] });
  }
  const volumeName = volumes?.find((v) => v.hostPath?.path === AESMD_DIR)?.name ?? AESMD_VOLUME;
  for (const { list, index, container } of asking) {
    const base = `/spec/${seg(list)}/${index}`;
    if (!container.env?.some((e) => e.name === 'SGX_AESM_ADDR')) {
      const env = { name: 'SGX_AESM_ADDR', value: '1' };
      patch.push(container.env ? { op: 'add', path: `${base}/env/-`, value: env } : { op: 'add', path: `${base}/env`, value: [env] });
    }
    if (!container.volumeMounts?.some((m) => m.mountPath === AESMD_DIR)) {
      const mount = { name: volumeName, mountPath: AESMD_DIR };
      patch.push(container.volumeMounts ? { op: 'add', path: `${base}/volumeMounts/-`, value: mount } : { op: 'add', path: `${base}/volumeMounts`, value: [mount] });
    }
  }
  return { allowed: true, patch };
}
