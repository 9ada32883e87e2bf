/**
 * The requests the Kata runtime would send the agent for a pod, in the replay format
 * (`{"kind", "request", "expect"}`), with the JSON shape a real agent hands its policy engine
 * (protobuf field names, unset messages as null). IDs and runtime values are deterministic samples.
 * Replaying them against the pod's policy must allow every one; tests mutate them to see denials.
 */
import { createHash } from 'node:crypto';
import type { ContainerModel } from './container.js';
import type { MountModel, MountSource } from './mounts.js';
import { BLOCK_STORAGE_PATH, guestPullName, runtimeImageName, storageData, type JsonValue } from './policy-data.js';
import { sampleOf } from './parts.js';
import type { PodModel } from './pod.js';
import type { Settings } from './settings.js';
import { SAMPLE } from './samples.js';

export interface SimulatedRequest {
  kind: string;
  request: JsonValue;
  expect: JsonValue;
}

const hex = (text: string, length = 64) => createHash('sha256').update(text).digest('hex').slice(0, length);

/** A deterministic UUID-shaped ID. */
function uuid(seed: string): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

interface Ids {
  sandboxId: string;
  containerId: string;
  sandboxName: string;
}

/** A pattern prefix from the settings (`^$(cpath)/$(sandbox-id)/local/`) with sample values. */
function samplePrefix(pattern: string, settings: Settings, ids: Ids): string {
  return pattern.replace(/^\^/, '').replace('$(cpath)', settings.paths.cpath).replace('$(sandbox-id)', ids.sandboxId).replace('$(bundle-id)', ids.containerId);
}

function sampleSource(source: MountSource, settings: Settings, ids: Ids): string {
  const sub = (s?: string) => (s === undefined ? '' : s === '.+' ? '/sub' : `/${s}`);
  switch (source.kind) {
    case 'fixed':
      return source.path;
    case 'shared':
      return `${settings.paths.cpath}/${ids.containerId}-${hex(ids.containerId + source.name, 16)}-${source.name}`;
    case 'local':
      return `${samplePrefix(settings.empty_dir.source, settings, ids)}${source.volume}${sub(source.subPath)}`;
    case 'ephemeral':
      return `${settings.paths.ephemeral}/${source.volume}${sub(source.subPath)}`;
    case 'block':
      return blockMountPoint(source.index);
  }
}

/** The n-th block emptyDir's device (`major/minor`-shaped, as genpolicy's cases) and where the agent mounts it. */
const blockDevice = (n: number) => `${n.toString(16).padStart(2, '0')}/${n.toString(16).padStart(2, '0')}`;
const blockMountPoint = (n: number) => `${BLOCK_STORAGE_PATH}/${Buffer.from(blockDevice(n)).toString('base64url')}${'='.repeat((3 - (blockDevice(n).length % 3)) % 3)}`;

function guestRoot(settings: Settings, ids: Ids): string {
  return settings.paths.root_path.replace('$(bundle-id)', ids.containerId);
}

function sampleStorages(c: ContainerModel, settings: Settings, ids: Ids, metadata: Record<string, string>): JsonValue[] {
  const all = storageData(c, settings);
  const firstVolume = all.length - c.volumeStorages.length;
  return all.map((s, i) => {
    let source = s.source;
    let mountPoint = s.mount_point;
    let driverOptions: string[] = [];
    if (s.driver === 'image_guest_pull') {
      source = c.type === 'sandbox' ? 'pause' : guestPullName(c);
      mountPoint = guestRoot(settings, ids);
      driverOptions = [`image_guest_pull=${JSON.stringify({ metadata })}`];
    } else if (s.driver === 'blk' && i >= firstVolume) {
      const n = c.volumeStorages.slice(0, i - firstVolume).filter((v) => v.kind === 'block').length;
      source = blockDevice(n);
      mountPoint = blockMountPoint(n);
      driverOptions = s.driver_options;
    } else if (s.driver === 'blk') {
      source = `0001:00:${(i + 1).toString(16).padStart(2, '0')}.0`;
      mountPoint = `${settings.paths.layers}/${c.layers[i].name}`;
    } else if (s.driver === 'overlayfs') {
      source = 'none';
      mountPoint = `${settings.paths.cpath}/${ids.containerId}`;
    } else if (s.driver === 'local') {
      source = 'local';
      mountPoint = `${samplePrefix(settings.empty_dir.mount_point, settings, ids)}${c.volumeStorages[i - firstVolume].volume}`;
    } else {
      source = 'tmpfs';
      mountPoint = `${settings.paths.ephemeral}/${c.volumeStorages[i - firstVolume].volume}`;
    }
    return { driver: s.driver, driver_options: driverOptions, source, fstype: s.fstype, options: s.options, mount_point: mountPoint, fs_group: s.fs_group, ...(s.shared === undefined ? {} : { shared: s.shared }) };
  });
}

function envSample(c: ContainerModel): string[] {
  return [...c.env, ...c.serviceEnv].map((e) => `${e.name}=${sampleOf(e.value)}`);
}

function processJson(c: ContainerModel, exec: boolean, args: string[]): { [key: string]: JsonValue } {
  return {
    Terminal: exec ? false : c.terminal,
    ConsoleSize: null,
    User: { UID: c.user.UID, GID: c.user.GID, AdditionalGids: c.user.AdditionalGids, Username: c.user.Username },
    Args: args,
    Env: envSample(c),
    Cwd: c.cwd,
    Capabilities: exec ? null : { ...c.capabilities },
    Rlimits: [],
    NoNewPrivileges: exec ? false : c.noNewPrivileges,
    ApparmorProfile: exec || c.type === 'sandbox' ? '' : 'cri-containerd.apparmor.d',
    OOMScoreAdj: exec ? 0 : c.type === 'sandbox' ? -998 : 1000,
    SelinuxLabel: '',
  };
}

function annotations(c: ContainerModel, pod: PodModel, ids: Ids, settings: Settings): Record<string, string> {
  const common = {
    'io.katacontainers.pkg.oci.bundle_path': `${settings.paths.bundle_prefix}${ids.containerId}`,
    'io.kubernetes.cri.sandbox-id': ids.sandboxId,
    'io.kubernetes.cri.sandbox-name': ids.sandboxName,
    'io.kubernetes.cri.sandbox-namespace': pod.namespace,
    'io.kubernetes.cri.sandbox-uid': SAMPLE.uid,
  };
  if (c.type === 'sandbox') {
    return {
      ...common,
      'io.kubernetes.cri.container-type': 'sandbox',
      'io.katacontainers.pkg.oci.container_type': 'pod_sandbox',
      'nerdctl/network-namespace': `/var/run/netns/cni-${uuid(ids.sandboxId)}`,
      'io.kubernetes.cri.sandbox-memory': '0',
      'io.kubernetes.cri.sandbox-cpu-period': '100000',
      'io.kubernetes.cri.sandbox-log-directory': `/var/log/pods/${pod.namespace}_${ids.sandboxName}_${SAMPLE.uid}`,
      'io.kubernetes.cri.sandbox-cpu-quota': '0',
      'io.kubernetes.cri.sandbox-cpu-shares': '2',
    };
  }
  return { ...common, 'io.kubernetes.cri.container-type': 'container', 'io.katacontainers.pkg.oci.container_type': 'pod_container', 'io.kubernetes.cri.container-name': c.name, 'io.kubernetes.cri.image-name': settings.image_pull === 'guest-pull' ? guestPullName(c) : runtimeImageName(c.imageName) };
}

function mountJson(m: MountModel, settings: Settings, ids: Ids): JsonValue {
  return { destination: m.destination, source: sampleSource(m.source, settings, ids), type_: m.type, options: m.options };
}

function createContainer(c: ContainerModel, pod: PodModel, settings: Settings, ids: Ids): JsonValue {
  const cpu = { Shares: 2, Quota: 0, Period: c.type === 'sandbox' ? 0 : 100000, RealtimeRuntime: 0, RealtimePeriod: 0, Cpus: '', Mems: '' };
  const memory = c.type === 'sandbox' ? null : { Limit: 0, Reservation: 0, Swap: 0, Kernel: 0, KernelTCP: 0, Swappiness: 0, DisableOOMKiller: false };
  return {
    container_id: ids.containerId,
    exec_id: ids.containerId,
    string_user: null,
    devices: [],
    storages: sampleStorages(c, settings, ids, annotations(c, pod, ids, settings)),
    OCI: {
      Version: settings.oci_version,
      Process: processJson(c, false, c.args.map(sampleOf)),
      Root: { Path: settings.image_pull === 'guest-pull' ? guestRoot(settings, ids) : `${settings.paths.cpath}/${ids.containerId}`, Readonly: c.readonlyRoot },
      Hostname: c.type === 'sandbox' ? sampleOf(pod.hostname) : '',
      Mounts: c.mounts.map((m) => mountJson(m, settings, ids)),
      Hooks: null,
      Annotations: annotations(c, pod, ids, settings),
      Linux: {
        UIDMappings: [],
        GIDMappings: [],
        Sysctl: c.sysctls,
        Resources: { Devices: [], Memory: memory, CPU: cpu, Pids: null, BlockIO: null, HugepageLimits: [], Network: null },
        CgroupsPath: `/kubepods/besteffort/pod${SAMPLE.uid}/${ids.containerId}`,
        Namespaces: settings.namespaces,
        Devices: [],
        Seccomp: null,
        RootfsPropagation: '',
        MaskedPaths: c.maskedPaths,
        ReadonlyPaths: c.readonlyPaths,
        MountLabel: '',
        IntelRdt: null,
      },
      Solaris: null,
      Windows: null,
    },
    // The runtime (handlePidNamespace) shares the PID namespace with application containers only.
    sandbox_pidns: c.type === 'container' && pod.sandboxPidns,
    shared_mounts: [],
    stdin_port: 0,
    stdout_port: 0,
    stderr_port: 0,
  };
}

function copyFiles(c: ContainerModel, settings: Settings, ids: Ids): SimulatedRequest[] {
  return c.mounts
    .filter((m) => m.source.kind === 'shared')
    .map((m) => ({
      kind: 'CopyFileRequest',
      request: { path: sampleSource(m.source, settings, ids), file_size: 0, file_mode: 33188, dir_mode: 2147484136, uid: 0, gid: 0, offset: 0, symlink_src: '' },
      expect: true,
    }));
}

/** Every request, in the order the runtime sends them, for one pod. */
export function simulatePod(pod: PodModel, settings: Settings): SimulatedRequest[] {
  const r = pod.template.resource;
  const seed = `${r.file}#${r.document}/${r.kind}/${r.name}`;
  const sandboxId = hex(`${seed}/sandbox`);
  const sandboxName = pod.podName.sample;
  const out: SimulatedRequest[] = [
    {
      kind: 'UpdateInterfaceRequest',
      request: { interface: { device: 'eth0', name: 'eth0', IPAddresses: [{ family: 0, address: SAMPLE.podIp, mask: '24' }], mtu: 1500, hwAddr: '0a:58:0a:f4:01:07', pciPath: '', type_: '', raw_flags: 0 } },
      expect: true,
    },
    { kind: 'UpdateRoutesRequest', request: { routes: { Routes: [{ dest: '', gateway: '10.244.1.1', device: 'eth0', source: '', scope: 0, family: 0 }] } }, expect: true },
    {
      kind: 'CreateSandboxRequest',
      request: {
        hostname: sampleOf(pod.hostname),
        dns: [`search ${pod.namespace}.svc.cluster.local svc.cluster.local cluster.local`, 'nameserver 10.0.0.10', 'options ndots:5', ''],
        storages: settings.sandbox.storages as unknown as JsonValue,
        sandbox_pidns: false,
        sandbox_id: sandboxId,
        guest_hook_path: '',
        kernel_modules: [],
      },
      expect: true,
    },
    { kind: 'GuestDetailsRequest', request: { mem_block_size: true, mem_hotplug_probe: true }, expect: true },
  ];
  for (const c of pod.containers) {
    const ids: Ids = { sandboxId, sandboxName, containerId: c.type === 'sandbox' ? sandboxId : hex(`${seed}/${c.name}`) };
    out.push(...copyFiles(c, settings, ids));
    out.push({ kind: 'CreateContainerRequest', request: createContainer(c, pod, settings, ids), expect: true });
    out.push({ kind: 'OnlineCPUMemRequest', request: { wait: false, nb_cpus: 0, cpu_only: false }, expect: true });
    out.push({ kind: 'UpdateEphemeralMountsRequest', request: { storages: [] }, expect: true });
    out.push({ kind: 'StartContainerRequest', request: { container_id: ids.containerId }, expect: true });
    c.execCommands.forEach((command, i) => {
      const execId = uuid(`${ids.containerId}/exec/${i}`);
      out.push({ kind: 'ExecProcessRequest', request: { container_id: ids.containerId, exec_id: execId, string_user: null, process: processJson(c, true, command) }, expect: true });
      out.push({ kind: 'WaitProcessRequest', request: { container_id: ids.containerId, exec_id: execId }, expect: true });
    });
  }
  out.push({ kind: 'GetOOMEventRequest', request: {}, expect: true });
  return out;
}
