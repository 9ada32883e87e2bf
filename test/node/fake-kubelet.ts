/**
 * A fake kubelet for device-plugin tests: a Registration gRPC server on `kubelet.sock` in a temp
 * folder that, like the real kubelet, dials the plugin back on Register and keeps a ListAndWatch stream
 * open. `restart()` does what a kubelet restart does: drops every socket in the folder and re-creates its own.
 */
import * as grpc from '@grpc/grpc-js';
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { devicePluginGrpc, KUBELET_SOCKET, type AllocateResponse, type Device, type RegisterRequest } from '../../src/node/deviceplugin/api.js';

interface PluginClient extends grpc.Client {
  ListAndWatch(request: object): grpc.ClientReadableStream<{ devices: Device[] }>;
  Allocate(request: object, callback: (error: grpc.ServiceError | null, response: AllocateResponse) => void): void;
  GetPreferredAllocation(request: object, callback: (error: grpc.ServiceError | null, response: { container_responses: { deviceIDs: string[] }[] }) => void): void;
}

export class FakeKubelet {
  readonly registrations: { at: number; request: RegisterRequest }[] = [];
  /** Every ListAndWatch message received, newest last. */
  readonly lists: Device[][] = [];
  private server: grpc.Server | undefined;
  private client: PluginClient | undefined;
  private waiters: (() => void)[] = [];

  constructor(readonly dir: string) {}

  async start(): Promise<void> {
    const server = new grpc.Server();
    server.addService(devicePluginGrpc().Registration.service, {
      Register: (call: grpc.ServerUnaryCall<RegisterRequest, object>, callback: grpc.sendUnaryData<object>) => {
        this.registrations.push({ at: Date.now(), request: call.request });
        callback(null, {});
        this.dial(call.request.endpoint);
      },
    });
    await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${join(this.dir, KUBELET_SOCKET)}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    this.server = server;
  }

  /** Opens ListAndWatch on a plugin socket in the folder (done on every Register). */
  dial(endpoint: string): void {
    this.client?.close();
    const client = new (devicePluginGrpc().DevicePlugin)(`unix:${join(this.dir, endpoint)}`, grpc.credentials.createInsecure()) as unknown as PluginClient;
    this.client = client;
    const stream = client.ListAndWatch({});
    stream.on('data', (m: { devices: Device[] }) => {
      this.lists.push(m.devices);
      this.waiters.splice(0).forEach((w) => w());
    });
    stream.on('error', () => undefined);
  }

  /** Resolves once a list arrives that satisfies the predicate. */
  async waitForList(predicate: (devices: Device[]) => boolean, timeoutMs = 5000): Promise<Device[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lists.findLast(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error('timed out waiting for a ListAndWatch message');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  allocate(ids: string[][]): Promise<AllocateResponse> {
    return new Promise((resolve, reject) => {
      if (!this.client) return reject(new Error('no plugin registered'));
      this.client.Allocate({ container_requests: ids.map((devices_ids) => ({ devices_ids })) }, (e, r) => (e ? reject(e) : resolve(r)));
    });
  }

  preferred(available: string[], mustInclude: string[], size: number): Promise<string[]> {
    return new Promise((resolve, reject) => {
      if (!this.client) return reject(new Error('no plugin registered'));
      this.client.GetPreferredAllocation(
        { container_requests: [{ available_deviceIDs: available, must_include_deviceIDs: mustInclude, allocation_size: size }] },
        (e, r) => (e ? reject(e) : resolve(r.container_responses[0].deviceIDs)),
      );
    });
  }

  async stop(): Promise<void> {
    this.client?.close();
    this.client = undefined;
    this.server?.forceShutdown();
    this.server = undefined;
  }

  /** A kubelet restart: every socket in the folder is removed, then kubelet.sock comes back. */
  async restart(): Promise<void> {
    await this.stop();
    for (const f of readdirSync(this.dir)) if (f.endsWith('.sock')) unlinkSync(join(this.dir, f));
    this.lists.length = 0;
    await this.start();
  }
}
