/**
 * The SGX device plugin: EPC discovery and device nodes wired into the generic device-plugin server,
 * one server (and socket) per advertised resource. Device health follows the device nodes: when the
 * enclave node vanishes every device turns Unhealthy, and back when it returns.
 */
import { InputError } from '../../core/errors.js';
import { createLogger, type Logger } from '../../core/log.js';
import type { Device } from '../deviceplugin/api.js';
import { DevicePluginServer, type DevicePluginHandlers } from '../deviceplugin/server.js';
import type { NodeMetrics } from '../metrics.js';
import { hasEnclaveNode, sgxDeviceSpecs, type DeviceNodeOptions, type SgxNodeKind } from './devices.js';
import type { EpcDiscovery } from './epc.js';
import {
  AZURE_EPC_RESOURCE, INTEL_ENCLAVE_RESOURCE, INTEL_EPC_RESOURCE, INTEL_PROVISION_RESOURCE,
  epcDeviceIndex, epcDevices, sharedDevices, type ResourceNaming,
} from './resources.js';

export interface SgxPluginOptions extends DeviceNodeOptions {
  pluginDir: string;
  epc: EpcDiscovery;
  naming: ResourceNaming;
  /** Pods per node that may share the Intel-style enclave / provision devices. */
  sharedLimit?: number;
  checkIntervalMs?: number;
  log?: Logger;
  metrics?: NodeMetrics;
}

interface Resource {
  name: string;
  endpoint: string;
  kinds: SgxNodeKind[];
  list(healthy: boolean): Device[];
  validId(id: string): boolean;
}

export class SgxDevicePlugin {
  readonly servers: DevicePluginServer[] = [];
  private readonly log: Logger;
  private readonly resources: Resource[] = [];
  private timer: NodeJS.Timeout | undefined;
  private healthy: boolean | undefined;
  /** What was found and what is advertised, for the start-up message and /healthz. */
  readonly summary: Record<string, unknown>;

  constructor(private readonly options: SgxPluginOptions) {
    this.log = options.log ?? createLogger({ level: 'silent' });
    const { epc } = options;
    if (!epc.found) {
      this.summary = { epc: 'none', reason: epc.reason, advertised: [] };
      return;
    }
    const limit = options.sharedLimit ?? 110;
    if (options.naming !== 'intel') {
      const first = epcDevices(epc.totalBytes, true);
      if (first.advertisedMiB < first.totalMiB) {
        this.log.warn('sgx: EPC list cut to fit the kubelet 4 MiB message limit', { totalMiB: first.totalMiB, advertisedMiB: first.advertisedMiB });
      }
      const count = first.advertisedMiB;
      this.resources.push({
        name: AZURE_EPC_RESOURCE, endpoint: 'confcom-sgx-epc.sock', kinds: ['enclave', 'provision'],
        list: (healthy) => (healthy ? first.devices : epcDevices(epc.totalBytes, false).devices),
        validId: (id) => { const i = epcDeviceIndex(id); return i >= 0 && i < count; },
      });
    }
    if (options.naming !== 'azure') {
      for (const [name, endpoint, kind] of [
        [INTEL_ENCLAVE_RESOURCE, 'confcom-sgx-enclave.sock', 'enclave'],
        [INTEL_PROVISION_RESOURCE, 'confcom-sgx-provision.sock', 'provision'],
      ] as const) {
        const prefix = kind;
        this.resources.push({
          name, endpoint, kinds: [kind],
          list: (healthy) => sharedDevices(prefix, limit, healthy),
          validId: (id) => new RegExp(`^${prefix}-(\\d+)$`).test(id) && Number(id.slice(prefix.length + 1)) < limit,
        });
      }
    }
    this.summary = {
      epc: epc.source, epcBytes: epc.totalBytes, sections: epc.sections,
      advertised: this.resources.map((r) => r.name),
      ...(options.naming !== 'azure' ? { extendedResource: { [INTEL_EPC_RESOURCE]: epc.totalBytes } } : {}),
    };
    for (const resource of this.resources) {
      this.servers.push(new DevicePluginServer({
        pluginDir: options.pluginDir, endpoint: resource.endpoint, resourceName: resource.name,
        handlers: this.handlers(resource), checkIntervalMs: options.checkIntervalMs, log: this.log, metrics: options.metrics,
      }));
    }
  }

  private handlers(resource: Resource): DevicePluginHandlers {
    return {
      allocate: (ids) => {
        const unknown = ids.filter((id) => !resource.validId(id));
        if (unknown.length > 0) throw new InputError('sgx_unknown_device', `${resource.name}: unknown device IDs ${unknown.slice(0, 5).join(', ')}`);
        const devices = sgxDeviceSpecs(resource.kinds, this.options);
        if (resource.kinds.includes('enclave') && !hasEnclaveNode(this.options)) {
          throw new InputError('sgx_no_device_node', `${resource.name}: no SGX enclave device node under ${this.options.devDir ?? '/dev'}`, { hint: 'load the SGX driver or mount the host /dev at --dev-dir' });
        }
        // Device nodes only: no environment, no mounts, nothing secret.
        return { devices };
      },
    };
  }

  /** Serves and registers every resource, then follows the device nodes' presence. */
  async start(): Promise<void> {
    if (this.resources.length === 0) {
      this.log.warn('sgx: advertising nothing', { reason: this.summary.reason });
      return;
    }
    this.refreshHealth();
    for (const server of this.servers) await server.start();
    this.timer = setInterval(() => this.refreshHealth(), this.options.checkIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** Re-reads the device nodes; on a change, every stream gets the new list. */
  refreshHealth(): void {
    const healthy = hasEnclaveNode(this.options);
    if (healthy === this.healthy) return;
    if (this.healthy !== undefined) this.log.warn(`sgx: enclave device node ${healthy ? 'is back' : 'vanished'}; devices now ${healthy ? 'Healthy' : 'Unhealthy'}`);
    this.healthy = healthy;
    this.resources.forEach((r, i) => this.servers[i].setDevices(r.list(healthy)));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}
