/**
 * A generic kubelet device-plugin server (API v1beta1) on a unix socket in the kubelet's
 * device-plugin folder. It serves before it registers (the kubelet dials back during Register), keeps
 * every ListAndWatch stream open and resends the whole list on each change, and follows kubelet restarts:
 * the kubelet deletes the plugins' sockets and re-creates `kubelet.sock`, so a folder watch plus a
 * periodic check re-creates our socket and registers again. Device-specific work (which devices, what
 * Allocate returns) comes from the `DevicePluginHandlers` given to it.
 */
import * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { statSync, unlinkSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { ConfcomError } from '../../core/errors.js';
import { createLogger, type Logger } from '../../core/log.js';
import type { NodeMetrics } from '../metrics.js';
import {
  DEVICE_PLUGIN_API_VERSION, HEALTHY, KUBELET_SOCKET, devicePluginGrpc,
  type AllocateRequest, type AllocateResponse, type ContainerAllocateResponse, type ContainerPreferredAllocationRequest,
  type Device, type DevicePluginOptions, type PreferredAllocationRequest, type PreferredAllocationResponse, type RegisterRequest,
} from './api.js';

export interface DevicePluginHandlers {
  /** What one container gets for these device IDs; throw a ConfcomError to refuse. */
  allocate(deviceIds: string[]): ContainerAllocateResponse;
  /** A preferred subset; the default keeps must-include IDs and fills up in list order. */
  preferredAllocation?(request: ContainerPreferredAllocationRequest): string[];
  /** Called before each container start when `preStartRequired` is set. */
  preStartContainer?(deviceIds: string[]): void;
}

export interface DevicePluginConfig {
  /** The kubelet's device-plugin folder (holds `kubelet.sock`). */
  pluginDir: string;
  /** Our socket's file name inside pluginDir. */
  endpoint: string;
  resourceName: string;
  handlers: DevicePluginHandlers;
  preStartRequired?: boolean;
  /** How often to check our socket and kubelet.sock besides the folder watch (ms, default 1000). */
  checkIntervalMs?: number;
  /** Deadline of one Register call (ms, default 5000). */
  registerTimeoutMs?: number;
  log?: Logger;
  metrics?: NodeMetrics;
}

interface SocketIdentity {
  ino: number;
  ctimeMs: number;
}

function identity(path: string): SocketIdentity | undefined {
  try {
    const s = statSync(path);
    return { ino: s.ino, ctimeMs: s.ctimeMs };
  } catch {
    return undefined;
  }
}

/** Keeps the must-include IDs, then fills up from the available ones in the order the kubelet sent them. */
export function defaultPreferredAllocation(request: ContainerPreferredAllocationRequest): string[] {
  const chosen = new Set(request.must_include_deviceIDs);
  for (const id of request.available_deviceIDs) {
    if (chosen.size >= request.allocation_size) break;
    chosen.add(id);
  }
  return [...chosen].slice(0, Math.max(request.allocation_size, request.must_include_deviceIDs.length));
}

function grpcError(error: unknown): grpc.ServiceError {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ConfcomError ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL;
  return Object.assign(new Error(message), { code, details: message, metadata: new grpc.Metadata() });
}

export class DevicePluginServer extends EventEmitter {
  private readonly log: Logger;
  private readonly socketPath: string;
  private readonly kubeletPath: string;
  private devices: Device[] = [];
  private readonly streams = new Set<grpc.ServerWritableStream<unknown, { devices: Device[] }>>();
  private server: grpc.Server | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private registeredWith: SocketIdentity | undefined;
  private servingAs: SocketIdentity | undefined;
  private checking: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Successful registrations so far. */
  registrations = 0;

  constructor(private readonly config: DevicePluginConfig) {
    super();
    this.log = config.log ?? createLogger({ level: 'silent' });
    this.socketPath = join(config.pluginDir, config.endpoint);
    this.kubeletPath = join(config.pluginDir, KUBELET_SOCKET);
  }

  get socket(): string {
    return this.socketPath;
  }

  options(): DevicePluginOptions {
    return { pre_start_required: this.config.preStartRequired === true, get_preferred_allocation_available: true };
  }

  /** Removes a stale socket, serves, registers, and starts watching for kubelet restarts. */
  async start(): Promise<void> {
    await this.serve();
    await this.register();
    this.watcher = watch(this.config.pluginDir, () => this.scheduleCheck());
    this.watcher.on('error', (error) => this.log.warn('device plugin: folder watch failed; relying on the periodic check', { error: String(error) }));
    this.timer = setInterval(() => this.scheduleCheck(), this.config.checkIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** Replaces the device list; every open ListAndWatch stream gets the whole new list. */
  setDevices(devices: Device[]): void {
    this.devices = devices;
    this.recordAdvertised();
    for (const stream of this.streams) stream.write({ devices });
  }

  currentDevices(): readonly Device[] {
    return this.devices;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    await this.checking;
    await this.shutdownServer();
    try {
      unlinkSync(this.socketPath);
    } catch {
      // already gone
    }
  }

  private recordAdvertised(): void {
    const m = this.config.metrics;
    if (!m) return;
    const healthy = this.devices.filter((d) => d.health === HEALTHY).length;
    m.devicesAdvertised.set({ resource: this.config.resourceName, health: 'Healthy' }, healthy);
    m.devicesAdvertised.set({ resource: this.config.resourceName, health: 'Unhealthy' }, this.devices.length - healthy);
  }

  private scheduleCheck(): void {
    if (this.stopped) return;
    this.checking = this.checking.then(() => this.check()).catch((error: unknown) => {
      this.log.warn('device plugin: check failed', { error: String(error) });
    });
  }

  /** Our socket deleted means the kubelet restarted: serve again. A new kubelet.sock means: register again. */
  private async check(): Promise<void> {
    if (this.stopped) return;
    const ours = identity(this.socketPath);
    if (!ours || !this.servingAs || ours.ino !== this.servingAs.ino) {
      this.log.info('device plugin: our socket is gone (kubelet restart?); serving again', { socket: this.socketPath });
      await this.serve();
      this.registeredWith = undefined;
    }
    const kubelet = identity(this.kubeletPath);
    if (!kubelet) return;
    if (!this.registeredWith || kubelet.ino !== this.registeredWith.ino || kubelet.ctimeMs !== this.registeredWith.ctimeMs) await this.register();
  }

  private async shutdownServer(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const stream of this.streams) stream.end();
    this.streams.clear();
    if (server) server.forceShutdown();
  }

  private async serve(): Promise<void> {
    await this.shutdownServer();
    try {
      unlinkSync(this.socketPath); // a stale socket from an earlier run would make bind fail
    } catch {
      // none there
    }
    const server = new grpc.Server({ 'grpc.max_send_message_length': 16 << 20 });
    server.addService(devicePluginGrpc().DevicePlugin.service, this.implementation());
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(`unix:${this.socketPath}`, grpc.ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve()));
    });
    this.server = server;
    this.servingAs = identity(this.socketPath);
  }

  private async register(): Promise<void> {
    const kubelet = identity(this.kubeletPath);
    if (!kubelet) {
      this.log.warn(`device plugin ${this.config.resourceName}: kubelet.sock not found; will register when it appears`, { pluginDir: this.config.pluginDir });
      return;
    }
    const { Registration } = devicePluginGrpc();
    const client = new Registration(`unix:${this.kubeletPath}`, grpc.credentials.createInsecure());
    const request: RegisterRequest = { version: DEVICE_PLUGIN_API_VERSION, endpoint: this.config.endpoint, resource_name: this.config.resourceName, options: this.options() };
    const deadline = Date.now() + (this.config.registerTimeoutMs ?? 5000);
    try {
      await new Promise<void>((resolve, reject) => {
        (client as unknown as { Register(r: RegisterRequest, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null) => void): void })
          .Register(request, { deadline }, (error) => (error ? reject(error) : resolve()));
      });
      this.registeredWith = kubelet;
      this.registrations++;
      this.config.metrics?.registrations.inc({ resource: this.config.resourceName, result: 'ok' });
      this.log.info('device plugin: registered with the kubelet', { resource: this.config.resourceName });
      this.emit('registered', this.registrations);
    } catch (error) {
      this.config.metrics?.registrations.inc({ resource: this.config.resourceName, result: 'failed' });
      this.config.metrics?.errors.inc({ component: 'device-plugin', kind: 'register' });
      this.log.warn('device plugin: registration failed; retrying on the next check', { resource: this.config.resourceName, error: (error as Error).message });
    } finally {
      client.close();
    }
  }

  private implementation(): grpc.UntypedServiceImplementation {
    const { handlers } = this.config;
    return {
      GetDevicePluginOptions: (_call: grpc.ServerUnaryCall<unknown, DevicePluginOptions>, callback: grpc.sendUnaryData<DevicePluginOptions>) => callback(null, this.options()),
      ListAndWatch: (call: grpc.ServerWritableStream<unknown, { devices: Device[] }>) => {
        this.streams.add(call);
        const forget = () => this.streams.delete(call);
        call.on('cancelled', forget);
        call.on('close', forget);
        call.on('error', forget);
        call.write({ devices: this.devices });
      },
      Allocate: (call: grpc.ServerUnaryCall<AllocateRequest, AllocateResponse>, callback: grpc.sendUnaryData<AllocateResponse>) => {
        try {
          const container_responses = call.request.container_requests.map((r) => handlers.allocate(r.devices_ids));
          const count = call.request.container_requests.reduce((n, r) => n + r.devices_ids.length, 0);
          this.config.metrics?.devicesAllocated.inc({ resource: this.config.resourceName }, count);
          callback(null, { container_responses });
        } catch (error) {
          this.config.metrics?.errors.inc({ component: 'device-plugin', kind: 'allocate' });
          callback(grpcError(error));
        }
      },
      GetPreferredAllocation: (call: grpc.ServerUnaryCall<PreferredAllocationRequest, PreferredAllocationResponse>, callback: grpc.sendUnaryData<PreferredAllocationResponse>) => {
        try {
          const pick = handlers.preferredAllocation ?? defaultPreferredAllocation;
          callback(null, { container_responses: call.request.container_requests.map((r) => ({ deviceIDs: pick(r) })) });
        } catch (error) {
          callback(grpcError(error));
        }
      },
      PreStartContainer: (call: grpc.ServerUnaryCall<{ devices_ids: string[] }, object>, callback: grpc.sendUnaryData<object>) => {
        try {
          handlers.preStartContainer?.(call.request.devices_ids);
          callback(null, {});
        } catch (error) {
          callback(grpcError(error));
        }
      },
    };
  }
}
