/**
 * The SGX device nodes a container needs, from the ones that exist on this host: the in-kernel driver's
 * `/dev/sgx_enclave` and `/dev/sgx_provision`, the DCAP driver's `/dev/sgx/enclave` and
 * `/dev/sgx/provision`, and the out-of-tree driver's `/dev/isgx`. Looked up under `--dev-dir` (where the
 * host's /dev is mounted in the plugin's pod); the specs name the host's path, which is what the runtime opens.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceSpec } from '../deviceplugin/api.js';

export type SgxNodeKind = 'enclave' | 'provision';

/** Device nodes relative to /dev, with the job each does. */
export const SGX_DEVICE_NODES: readonly { path: string; kind: SgxNodeKind }[] = [
  { path: 'sgx_enclave', kind: 'enclave' },
  { path: 'sgx_provision', kind: 'provision' },
  { path: 'sgx/enclave', kind: 'enclave' },
  { path: 'sgx/provision', kind: 'provision' },
  { path: 'isgx', kind: 'enclave' },
];

export interface DeviceNodeOptions {
  /** Where to look (default /dev). */
  devDir?: string;
  /** The same folder as the host sees it (default /dev). */
  hostDevDir?: string;
}

/** DeviceSpecs (rw, never mknod) for the existing nodes of the given kinds. */
export function sgxDeviceSpecs(kinds: readonly SgxNodeKind[], options: DeviceNodeOptions = {}): DeviceSpec[] {
  const devDir = options.devDir ?? '/dev';
  const hostDevDir = options.hostDevDir ?? '/dev';
  return SGX_DEVICE_NODES.filter((n) => kinds.includes(n.kind) && existsSync(join(devDir, n.path))).map((n) => ({
    container_path: join('/dev', n.path),
    host_path: join(hostDevDir, n.path),
    permissions: 'rw',
  }));
}

/** An enclave can only be launched with an enclave node present. */
export function hasEnclaveNode(options: DeviceNodeOptions = {}): boolean {
  return sgxDeviceSpecs(['enclave'], options).length > 0;
}
