/**
 * The pod model as `policy_data`: what the rules in rules/rules.rego compare the agent's requests
 * with. Literal values are pinned exactly; runtime values are anchored RE2 patterns, in which the
 * rules replace `$(bundle-id)`, `$(sandbox-id)` and `$(sfprefix)` with the request's own IDs.
 */
import { escapeRegex } from '../k8s/kinds/index.js';
import { AKS_ANNOTATION, INITDATA_ANNOTATION } from './formats/index.js';
import type { ContainerModel, LayerPin } from './container.js';
import { NAMESPACE_PATTERN } from './env.js';
import type { MountModel, MountSource, VolumeStorage } from './mounts.js';
import { exactText, patternOf, type Value } from './parts.js';
import type { PodModel } from './pod.js';
import type { Settings, StorageSpec } from './settings.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export const PCI_ADDRESS = '^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-9a-f]$';

/** Expands the settings' pattern names (`$(ipv4)`) in a pattern; rule-time tokens are left alone. */
export function expandPatterns(pattern: string, settings: Settings): string {
  return pattern.replace(/\$\(([a-z_0-9]+)\)/g, (whole, name: string) => settings.env.patterns[name] ?? (name === 'cpath' ? escapeRegex(settings.paths.cpath) : whole));
}

export function mountSourcePattern(source: MountSource, settings: Settings): string {
  const sub = (s?: string) => (s === undefined ? '' : s === '.+' ? '/.+' : `/${escapeRegex(s)}`);
  switch (source.kind) {
    case 'fixed':
      return `^${escapeRegex(source.path)}$`;
    case 'shared':
      return `^$(sfprefix)${escapeRegex(source.name)}$`;
    case 'local':
      return `${expandPatterns(settings.empty_dir.source, settings)}${escapeRegex(source.volume)}${sub(source.subPath)}$`;
    case 'ephemeral':
      return `^${escapeRegex(settings.paths.ephemeral)}/${escapeRegex(source.volume)}${sub(source.subPath)}$`;
    case 'block':
      // The rules match it against the mount points of the request's own block storages.
      return BLOCK_STORAGE;
  }
}

/** Rule-time tokens for block emptyDirs: the mount's source is a block storage's mount point, which is the device's. */
export const BLOCK_STORAGE = '$(block-storage)';
export const BLOCK_MOUNT_POINT = '$(spath)/$(b64-device-id)';
export const BLOCK_SOURCE = '^[0-9a-f]{2}/[0-9a-f]{2}$';
export const BLOCK_STORAGE_PATH = '/run/kata-containers/sandbox/storage';

function mountData(m: MountModel, settings: Settings): JsonValue {
  return { destination: m.destination, type_: m.type, source: mountSourcePattern(m.source, settings), options: m.options };
}

export const LAYER_OPTIONS = ['ro', 'io.katacontainers.fs-opt.block_device=file', 'io.katacontainers.fs-opt.is-layer'];

/** The overlay's per-layer option: base64 of `name,tar,<layer options>,root-hash=...`. */
export function overlayLayerOption(layer: LayerPin): string {
  const info = `${layer.name},tar,${LAYER_OPTIONS.join(',')},io.katacontainers.fs-opt.root-hash=${layer.rootHash}`;
  return `io.katacontainers.fs-opt.layer=${Buffer.from(info).toString('base64')}`;
}

/** An agent `Storage` as the policy lists it (source and mount_point are patterns). */
export type StorageData = Omit<StorageSpec, 'fs_group'> & { fs_group: null | { group_id: number; group_change_policy: number }; shared?: boolean };

/** `repo` of `repo[:tag][@digest]` (a colon after the last slash starts the tag). */
function repositoryOf(reference: string): string {
  const name = reference.split('@')[0];
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(0, colon) : name;
}

/**
 * The image reference as containerd hands it to the runtime: `repo@digest` when the manifest pins a
 * digest (containerd drops the tag), else the reference as written.
 */
export function runtimeImageName(reference: string): string {
  const at = reference.indexOf('@');
  return at < 0 ? reference : `${repositoryOf(reference)}${reference.slice(at)}`;
}

/** The name a guest pull must use: `repo@digest`, with the digest resolved at generation when the manifest gives a tag. */
export function guestPullName(c: ContainerModel): string {
  const runtime = runtimeImageName(c.imageName);
  if (runtime.includes('@') || c.imageDigest === '') return runtime;
  return `${repositoryOf(c.imageName)}@${c.imageDigest}`;
}

/**
 * The image names a guest-pull request may carry for a container. With a digest known, only names
 * bound to it: a tag moved in the registry must not change what runs.
 */
export function imageNamePattern(c: ContainerModel): string {
  if (c.type === 'sandbox') return '^pause$';
  const names = new Set([guestPullName(c)]);
  if (c.imageDigest !== '') names.add(`${c.imageName.split('@')[0]}@${c.imageDigest}`);
  else names.add(c.imageName);
  return `^(${[...names].map(escapeRegex).join('|')})$`;
}

/** The root file system pattern: under the shared folder (tardev), or the guest-pull bundle root. */
export function rootPathPattern(settings: Settings): string {
  if (settings.image_pull === 'guest-pull') return `^${escapeRegex(settings.paths.root_path).replace(escapeRegex('$(bundle-id)'), '$(bundle-id)')}$`;
  return `^${escapeRegex(settings.paths.cpath)}/$(bundle-id)$`;
}

/** The storages of a container (source and mount_point as patterns): layers (top first), overlay, volumes. */
export function storageData(c: ContainerModel, settings: Settings): StorageData[] {
  const volumes = volumeStorageData(c, settings);
  if (settings.image_pull === 'guest-pull') {
    const pulled: StorageData = {
      driver: 'image_guest_pull',
      driver_options: ['image_guest_pull'],
      source: imageNamePattern(c),
      fstype: 'overlay',
      options: [],
      mount_point: rootPathPattern(settings),
      fs_group: null,
    };
    return [pulled, ...volumes];
  }
  const layers = c.layers.map(
    (l): StorageData => ({
      driver: 'blk',
      driver_options: [],
      source: PCI_ADDRESS,
      fstype: 'tar',
      options: [...LAYER_OPTIONS, `io.katacontainers.fs-opt.root-hash=${l.rootHash}`],
      mount_point: `^${escapeRegex(`${settings.paths.layers}/${l.name}`)}$`,
      fs_group: null,
    }),
  );
  const overlay: StorageData = {
    driver: 'overlayfs',
    driver_options: [],
    source: '^none$',
    fstype: 'fuse3.kata-overlay',
    options: [
      `io.katacontainers.fs-opt.layer-src-prefix=${settings.paths.layer_src_prefix}`,
      ...c.layers.map(overlayLayerOption),
      'io.katacontainers.fs-opt.overlay-rw',
      `lowerdir=${c.layers.map((l) => l.name).join(':')}`,
    ],
    mount_point: `^${escapeRegex(settings.paths.cpath)}/$(bundle-id)$`,
    fs_group: null,
  };
  return [...layers, overlay, ...volumes];
}

/** The runtime adds `fsgid=` to a file-system emptyDir's options when the pod sets fsGroup. */
const fsgid = (v: VolumeStorage) => (v.fsGroup === undefined ? [] : [`fsgid=${v.fsGroup}`]);

function volumeStorageData(c: ContainerModel, settings: Settings): StorageData[] {
  return c.volumeStorages.map((v: VolumeStorage): StorageData => {
    switch (v.kind) {
      case 'local':
        return { driver: 'local', driver_options: [], source: '^local$', fstype: 'local', options: [`mode=${settings.empty_dir.mode}`, ...fsgid(v)], mount_point: `${expandPatterns(settings.empty_dir.mount_point, settings)}${escapeRegex(v.volume)}$`, fs_group: null };
      case 'ephemeral':
        return { driver: 'ephemeral', driver_options: [], source: '^tmpfs$', fstype: 'tmpfs', options: fsgid(v), mount_point: `^${escapeRegex(settings.paths.ephemeral)}/${escapeRegex(v.volume)}$`, fs_group: null };
      case 'block':
        return {
          driver: 'blk',
          driver_options: v.encrypted ? ['encryption_key=ephemeral', 'create_filesystem'] : ['create_filesystem'],
          source: BLOCK_SOURCE,
          fstype: 'ext4',
          options: v.encrypted ? [] : ['discard'],
          mount_point: BLOCK_MOUNT_POINT,
          fs_group: v.fsGroup === undefined ? null : { group_id: v.fsGroup, group_change_policy: 0 },
          shared: true,
        };
    }
  });
}

const anchored = (v: Value) => `^${patternOf(v)}$`;

function processData(c: ContainerModel): JsonValue {
  const env = c.env.flatMap((e) => {
    const text = exactText(e.value);
    return text === undefined ? [] : [`${e.name}=${text}`];
  });
  const envRegex = c.env.flatMap((e) => (exactText(e.value) === undefined ? [`^${escapeRegex(e.name)}=${patternOf(e.value)}$`] : []));
  const args = c.args.map((a) => exactText(a) ?? '');
  const process: { [key: string]: JsonValue } = {
    Terminal: c.terminal,
    User: { UID: c.user.UID, GID: c.user.GID, AdditionalGids: c.user.AdditionalGids, Username: c.user.Username },
    Args: args,
    Env: env,
    EnvRegex: envRegex,
    Cwd: c.cwd,
    Capabilities: { ...c.capabilities },
    NoNewPrivileges: c.noNewPrivileges,
  };
  if (c.args.some((a) => exactText(a) === undefined)) process.ArgsRegex = c.args.map((a) => (exactText(a) === undefined ? anchored(a) : ''));
  return process;
}

/** The namespace the manifest names; any when it names none (as kubectl apply -n does, and genpolicy). */
const namespaceRegex = (pod: PodModel) => (pod.namespaceFixed ? `^${escapeRegex(pod.namespace)}$` : `^${NAMESPACE_PATTERN}$`);

function annotationData(c: ContainerModel, pod: PodModel, settings: Settings): Record<string, string> {
  const common: Record<string, string> = {
    'io.kubernetes.cri.sandbox-name': pod.podName.regex,
    'io.kubernetes.cri.sandbox-namespace': namespaceRegex(pod),
    'io.kubernetes.cri.sandbox-id': '^$(sandbox-id)$',
    'io.katacontainers.pkg.oci.bundle_path': `^${escapeRegex(settings.paths.bundle_prefix)}$(bundle-id)$`,
  };
  if (c.type === 'sandbox') {
    return {
      ...common,
      'io.kubernetes.cri.container-type': '^sandbox$',
      'io.katacontainers.pkg.oci.container_type': '^pod_sandbox$',
      'io.kubernetes.cri.sandbox-log-directory': `^/var/log/pods/$(sandbox-namespace)_${pod.podName.regex.slice(1, -1)}_${settings.env.patterns.uid}$`,
    };
  }
  return {
    ...common,
    'io.kubernetes.cri.container-type': '^container$',
    'io.katacontainers.pkg.oci.container_type': '^pod_container$',
    'io.kubernetes.cri.container-name': `^${escapeRegex(c.name)}$`,
    'io.kubernetes.cri.image-name': settings.image_pull === 'guest-pull' ? imageNamePattern(c) : `^(${escapeRegex(runtimeImageName(c.imageName))}|${escapeRegex(c.imageName)})$`,
  };
}

/**
 * The pod's `io.katacontainers.*` annotations as containerd forwards them to containers: pinned
 * literally, except the policy itself (bound by HOST_DATA, and the runtime reads only the sandbox's).
 */
function forwardedAnnotations(pod: PodModel): Record<string, string> {
  const metadata = pod.template.metadata;
  const annotations = typeof metadata.annotations === 'object' && metadata.annotations !== null ? (metadata.annotations as Record<string, unknown>) : {};
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith('io.katacontainers.') || typeof value !== 'string') continue;
    out[key] = key === AKS_ANNOTATION || key === INITDATA_ANNOTATION ? '^(?s:.*)$' : `^${escapeRegex(value)}$`;
  }
  for (const key of [AKS_ANNOTATION, INITDATA_ANNOTATION]) out[key] ??= '^(?s:.*)$';
  return out;
}

function containerData(c: ContainerModel, pod: PodModel, settings: Settings): JsonValue {
  return {
    forwarded_annotations: forwardedAnnotations(pod),
    sandbox_pidns: c.type === 'container' && pod.sandboxPidns,
    name: c.name,
    type: c.type,
    image: c.imageName,
    image_digest: c.imageDigest,
    annotations: annotationData(c, pod, settings),
    process: processData(c),
    root: { Path: rootPathPattern(settings), Readonly: c.readonlyRoot },
    mounts: c.mounts.map((m) => mountData(m, settings)),
    storages: storageData(c, settings) as unknown as JsonValue,
    linux: { MaskedPaths: c.maskedPaths, ReadonlyPaths: c.readonlyPaths, Sysctl: c.sysctls },
    exec_commands: c.execCommands,
    vfio_gpus: c.vfioGpus,
  };
}

function mapPatterns(map: Record<string, string>, settings: Settings): Record<string, string> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, expandPatterns(v, settings)]));
}

/** The whole `policy_data` document for one pod. */
export function policyData(pod: PodModel, settings: Settings): JsonValue {
  const hostname = exactText(pod.hostname);
  return {
    common: {
      cpath: settings.paths.cpath,
      cpath_regex: escapeRegex(settings.paths.cpath),
      bundle_prefix: settings.paths.bundle_prefix,
      oci_version: settings.oci_version,
      runtime_sysctls: settings.runtime_sysctls,
      namespaces: settings.namespaces,
      env_allow_regex: settings.env.allow_regex.map((r) => expandPatterns(r, settings)),
      optional_annotations: { sandbox: mapPatterns(settings.annotations.sandbox, settings), container: mapPatterns(settings.annotations.container, settings) },
    },
    pod: {
      namespace: pod.namespace,
      namespace_regex: namespaceRegex(pod),
      name_regex: pod.podName.regex,
      // The pod's hostname is its name unless spec.hostname fixes it.
      hostname_regex: hostname !== undefined && hostname !== pod.podName.exact ? `^${escapeRegex(hostname)}$` : '^$(sandbox-name)$',
      sandbox_pidns: pod.sandboxPidns,
    },
    sandbox: { storages: settings.sandbox.storages as unknown as JsonValue },
    containers: pod.containers.map((c) => containerData(c, pod, settings)),
    request_defaults: {
      ExecProcessRequest: { commands: settings.exec.allow_commands },
      ReadStreamRequest: settings.logs.allow_read,
      WriteStreamRequest: settings.stdin.allow_write,
      CloseStdinRequest: settings.stdin.allow_close,
      CopyFileRequest: { path_regex: expandPatterns(settings.request_defaults.CopyFileRequest.path_regex, settings) },
      UpdateInterfaceRequest: settings.request_defaults.UpdateInterfaceRequest as unknown as JsonValue,
      UpdateRoutesRequest: settings.request_defaults.UpdateRoutesRequest as unknown as JsonValue,
      AddARPNeighborsRequest: settings.request_defaults.AddARPNeighborsRequest as unknown as JsonValue,
    },
  };
}
