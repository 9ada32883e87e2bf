/**
 * What the SGX device plugin advertises. Azure's name `kubernetes.azure.com/sgx_epc_mem_in_MiB` is
 * one device per MiB of EPC with short base-36 IDs; Intel's names (`sgx.intel.com/enclave`,
 * `sgx.intel.com/provision`) are shared device nodes with a per-node count. Intel's
 * `sgx.intel.com/epc` is a byte count: no device list can carry one device per byte, so it is an
 * extended resource on the node (Intel sets it through NFD); we only report the value.
 *
 * The kubelet reads ListAndWatch with gRPC's default 4 MiB limit, and every device costs at least
 * ~17 bytes on the wire (ID, and the health string "Healthy" that the kubelet compares verbatim), so one
 * message holds at most ~240,000 devices: beyond that (about 235 GiB of EPC) the list is cut to what
 * fits and the rest is not advertised (under-advertising is safe; the opposite would overcommit EPC).
 */
import { HEALTHY, UNHEALTHY, type Device } from '../deviceplugin/api.js';

export const AZURE_EPC_RESOURCE = 'kubernetes.azure.com/sgx_epc_mem_in_MiB';
export const INTEL_EPC_RESOURCE = 'sgx.intel.com/epc';
export const INTEL_ENCLAVE_RESOURCE = 'sgx.intel.com/enclave';
export const INTEL_PROVISION_RESOURCE = 'sgx.intel.com/provision';

export const MIB = 1 << 20;
/** The kubelet's receive limit, less a margin for framing. */
export const LIST_BYTE_BUDGET = (4 << 20) - (64 << 10);
/** Bytes of one Device entry with an ID of `idLength` characters, no topology. */
const deviceBytes = (idLength: number, health: string): number => 2 + (2 + idLength) + (2 + health.length);

export type ResourceNaming = 'azure' | 'intel' | 'both';
export const RESOURCE_NAMINGS: readonly ResourceNaming[] = ['azure', 'intel', 'both'];

/** Short ID of the i-th MiB device: base 36 (`0`..`zz`..), at most 4 characters up to 1.6 million devices. */
export const epcDeviceId = (index: number): string => index.toString(36);
export const epcDeviceIndex = (id: string): number => (/^[0-9a-z]{1,6}$/.test(id) ? parseInt(id, 36) : -1);

/** How many one-MiB devices fit in one ListAndWatch message under the budget. */
export function maxEpcDevices(budget = LIST_BYTE_BUDGET): number {
  let bytes = 0;
  let n = 0;
  for (let len = 1; ; len++) {
    const width = deviceBytes(len, HEALTHY);
    const count = 36 ** len - (len === 1 ? 0 : 36 ** (len - 1));
    if (bytes + width * count > budget) return n + Math.floor((budget - bytes) / width);
    bytes += width * count;
    n += count;
  }
}

export interface EpcDeviceList {
  devices: Device[];
  /** MiB of EPC found. */
  totalMiB: number;
  /** MiB advertised (less than totalMiB when the list had to be cut). */
  advertisedMiB: number;
  encodedBytes: number;
}

export function epcDevices(totalBytes: number, healthy: boolean, budget = LIST_BYTE_BUDGET): EpcDeviceList {
  const totalMiB = Math.floor(totalBytes / MIB);
  const advertisedMiB = Math.min(totalMiB, maxEpcDevices(budget));
  const health = healthy ? HEALTHY : UNHEALTHY;
  const devices: Device[] = new Array<Device>(advertisedMiB);
  for (let i = 0; i < advertisedMiB; i++) devices[i] = { ID: epcDeviceId(i), health };
  // Counted, not encoded: each entry is under 128 bytes, so its length prefix is one byte (tests check the sum against a real encoding).
  let encodedBytes = 0;
  for (const d of devices) encodedBytes += deviceBytes(d.ID.length, health);
  return { devices, totalMiB, advertisedMiB, encodedBytes };
}

/** Intel-style shared device: `count` IDs (`enclave-0`...) that all map to the same device nodes. */
export function sharedDevices(prefix: string, count: number, healthy: boolean): Device[] {
  return Array.from({ length: count }, (_, i) => ({ ID: `${prefix}-${i}`, health: healthy ? HEALTHY : UNHEALTHY }));
}
