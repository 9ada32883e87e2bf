/**
 * The kubelet device-plugin API, version v1beta1, written from the published field numbers of
 * `k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1/api.proto` (gogoproto options dropped: they only change
 * Go names, not the wire). Loaded at run time with protobufjs + @grpc/proto-loader, so nothing is generated
 * at build time and no asset has to be copied.
 */
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import protobuf from 'protobufjs';

export const DEVICE_PLUGIN_API_VERSION = 'v1beta1';
/** The kubelet's registration socket inside the device-plugin folder. */
export const KUBELET_SOCKET = 'kubelet.sock';
export const HEALTHY = 'Healthy';
export const UNHEALTHY = 'Unhealthy';

export const DEVICE_PLUGIN_PROTO = `
syntax = "proto3";
package v1beta1;

service Registration {
  rpc Register(RegisterRequest) returns (Empty) {}
}
message DevicePluginOptions {
  bool pre_start_required = 1;
  bool get_preferred_allocation_available = 2;
}
message RegisterRequest {
  string version = 1;
  string endpoint = 2;
  string resource_name = 3;
  DevicePluginOptions options = 4;
}
message Empty {}

service DevicePlugin {
  rpc GetDevicePluginOptions(Empty) returns (DevicePluginOptions) {}
  rpc ListAndWatch(Empty) returns (stream ListAndWatchResponse) {}
  rpc GetPreferredAllocation(PreferredAllocationRequest) returns (PreferredAllocationResponse) {}
  rpc Allocate(AllocateRequest) returns (AllocateResponse) {}
  rpc PreStartContainer(PreStartContainerRequest) returns (PreStartContainerResponse) {}
}
message ListAndWatchResponse { repeated Device devices = 1; }
message TopologyInfo { repeated NUMANode nodes = 1; }
message NUMANode { int64 ID = 1; }
message Device {
  string ID = 1;
  string health = 2;
  TopologyInfo topology = 3;
}
message PreStartContainerRequest { repeated string devices_ids = 1; }
message PreStartContainerResponse {}
message PreferredAllocationRequest { repeated ContainerPreferredAllocationRequest container_requests = 1; }
message ContainerPreferredAllocationRequest {
  repeated string available_deviceIDs = 1;
  repeated string must_include_deviceIDs = 2;
  int32 allocation_size = 3;
}
message PreferredAllocationResponse { repeated ContainerPreferredAllocationResponse container_responses = 1; }
message ContainerPreferredAllocationResponse { repeated string deviceIDs = 1; }
message AllocateRequest { repeated ContainerAllocateRequest container_requests = 1; }
message ContainerAllocateRequest { repeated string devices_ids = 1; }
message AllocateResponse { repeated ContainerAllocateResponse container_responses = 1; }
message ContainerAllocateResponse {
  map<string, string> envs = 1;
  repeated Mount mounts = 2;
  repeated DeviceSpec devices = 3;
  map<string, string> annotations = 4;
  repeated CDIDevice cdi_devices = 5;
}
message CDIDevice { string name = 1; }
message Mount {
  string container_path = 1;
  string host_path = 2;
  bool read_only = 3;
}
message DeviceSpec {
  string container_path = 1;
  string host_path = 2;
  string permissions = 3;
}
`;

// The message shapes as proto-loader hands them over (keepCase: field names exactly as in the .proto).
export interface DevicePluginOptions {
  pre_start_required?: boolean;
  get_preferred_allocation_available?: boolean;
}
export interface RegisterRequest {
  version: string;
  endpoint: string;
  resource_name: string;
  options?: DevicePluginOptions;
}
export interface Device {
  ID: string;
  health: string;
  topology?: { nodes: { ID: number | string }[] } | null;
}
export interface ListAndWatchResponse {
  devices: Device[];
}
export interface DeviceSpec {
  container_path: string;
  host_path: string;
  permissions: string;
}
export interface MountSpec {
  container_path: string;
  host_path: string;
  read_only: boolean;
}
export interface ContainerAllocateResponse {
  envs?: Record<string, string>;
  mounts?: MountSpec[];
  devices?: DeviceSpec[];
  annotations?: Record<string, string>;
  cdi_devices?: { name: string }[];
}
export interface AllocateRequest {
  container_requests: { devices_ids: string[] }[];
}
export interface AllocateResponse {
  container_responses: ContainerAllocateResponse[];
}
export interface ContainerPreferredAllocationRequest {
  available_deviceIDs: string[];
  must_include_deviceIDs: string[];
  allocation_size: number;
}
export interface PreferredAllocationRequest {
  container_requests: ContainerPreferredAllocationRequest[];
}
export interface PreferredAllocationResponse {
  container_responses: { deviceIDs: string[] }[];
}

const LOADER_OPTIONS = { keepCase: true, longs: Number, enums: String, defaults: true, arrays: true, objects: true } as const;

let root: protobuf.Root | undefined;
/** The parsed .proto (protobufjs), for encoding sizes and for tests. */
export function deviceProtoRoot(): protobuf.Root {
  if (!root) {
    root = protobuf.parse(DEVICE_PLUGIN_PROTO, { keepCase: true }).root;
    root.resolveAll();
  }
  return root;
}

export interface DevicePluginGrpc {
  Registration: grpc.ServiceClientConstructor;
  DevicePlugin: grpc.ServiceClientConstructor;
}

let loaded: DevicePluginGrpc | undefined;
/** The gRPC service definitions and client constructors of package `v1beta1`. */
export function devicePluginGrpc(): DevicePluginGrpc {
  if (!loaded) {
    const definition = fromJSON(deviceProtoRoot().toJSON(), LOADER_OPTIONS);
    const pkg = grpc.loadPackageDefinition(definition).v1beta1 as unknown as DevicePluginGrpc;
    loaded = pkg;
  }
  return loaded;
}

/** Bytes of one ListAndWatch message carrying these devices (what the kubelet must accept, 4 MiB at most). */
export function listAndWatchSize(devices: Device[]): number {
  const type = deviceProtoRoot().lookupType('v1beta1.ListAndWatchResponse');
  return type.encode({ devices }).finish().length;
}
