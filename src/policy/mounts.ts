/**
 * The mounts and storages the Kata runtime sends for a container: the OCI defaults (/proc, /dev,
 * /sys, ...), the files kubelet and containerd share (hosts, hostname, resolv.conf, termination log,
 * /dev/shm), every volumeMount by volume type, the service-account token and the image's VOLUMEs.
 * One mount per destination: a volume mounted over a default replaces it, so the host has no choice.
 *
 * Sources are kept symbolic (`shared`: a file the host copies into the guest, named after the
 * destination; `local`: an emptyDir on the guest's disk; ...) so the policy gets a pattern and the
 * simulated request a concrete path from the same model.
 */
import { posix } from 'node:path';
import { InputError } from '../core/errors.js';
import { isRecord, type NodePath } from '../k8s/manifest.js';
import type { PodLocator } from './errors.js';
import type { Settings } from './settings.js';

export type MountSource =
  | { kind: 'fixed'; path: string }
  | { kind: 'shared'; name: string }
  | { kind: 'local'; volume: string; subPath?: string }
  | { kind: 'ephemeral'; volume: string; subPath?: string }
  /** An emptyDir on its own block device (genpolicy's block-encrypted / block-plain emptyDirs). */
  | { kind: 'block'; index: number };

export interface MountModel {
  destination: string;
  type: string;
  source: MountSource;
  options: string[];
}

export type VolumeStorage =
  | { kind: 'local'; volume: string; fsGroup?: number }
  | { kind: 'ephemeral'; volume: string; fsGroup?: number }
  | { kind: 'block'; volume: string; encrypted: boolean; fsGroup?: number };

/** Where a disk-backed emptyDir lives, as genpolicy's `emptydir_type`. */
export const EMPTY_DIR_TYPES = ['shared-fs', 'block-encrypted', 'block-plain'] as const;

export interface ContainerMounts {
  mounts: MountModel[];
  storages: VolumeStorage[];
}

const fixed = (destination: string, type: string, path: string, options: string[]): MountModel => ({ destination, type, source: { kind: 'fixed', path }, options });
const shared = (destination: string, options: string[]): MountModel => ({ destination, type: 'bind', source: { kind: 'shared', name: posix.basename(destination) }, options });

const SHM = '/run/kata-containers/sandbox/shm';
export const SERVICE_ACCOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

function ociDefaults(privileged: boolean, sandbox: boolean): MountModel[] {
  const sysAccess = privileged ? 'rw' : 'ro';
  const mounts = [
    fixed('/proc', 'proc', 'proc', ['nosuid', 'noexec', 'nodev']),
    fixed('/dev', 'tmpfs', 'tmpfs', ['nosuid', 'strictatime', 'mode=755', 'size=65536k']),
    fixed('/dev/pts', 'devpts', 'devpts', ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']),
    fixed('/dev/mqueue', 'mqueue', 'mqueue', ['nosuid', 'noexec', 'nodev']),
    fixed('/sys', 'sysfs', 'sysfs', ['nosuid', 'noexec', 'nodev', sysAccess]),
  ];
  if (!sandbox) mounts.push(fixed('/sys/fs/cgroup', 'cgroup', 'cgroup', ['nosuid', 'noexec', 'nodev', 'relatime', sysAccess]));
  return mounts;
}

/** The pause container's mounts. */
export function sandboxMounts(): MountModel[] {
  return [...ociDefaults(false, true), fixed('/dev/shm', 'bind', SHM, ['rbind']), shared('/etc/resolv.conf', ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'])];
}

export interface MountInputs {
  locator: PodLocator;
  settings: Settings;
  spec: Record<string, unknown>;
  container: Record<string, unknown>;
  /** Path of the container in the pod spec, e.g. ['containers', 0]. */
  at: NodePath;
  privileged: boolean;
  readonlyRoot: boolean;
  claimTemplates: string[];
  imageVolumes: readonly string[];
}

const SHARED_FILE_TYPES = ['configMap', 'secret', 'projected', 'downwardAPI'] as const;
const SUPPORTED = 'emptyDir, configMap, secret, projected, downwardAPI, persistentVolumeClaim and hostPath';

function propagation(mount: Record<string, unknown>): string {
  if (mount.mountPropagation === 'Bidirectional') return 'rshared';
  if (mount.mountPropagation === 'HostToContainer') return 'rslave';
  return 'rprivate';
}

function emptyDirType(inputs: MountInputs): (typeof EMPTY_DIR_TYPES)[number] {
  const type = inputs.settings.empty_dir.type ?? 'shared-fs';
  const known = EMPTY_DIR_TYPES.find((t) => t === type);
  if (known === undefined) throw new InputError('settings_invalid', `settings empty_dir.type '${type}' is not one of ${EMPTY_DIR_TYPES.join(', ')}`, { location: { file: 'settings' }, hint: `set empty_dir.type to one of ${EMPTY_DIR_TYPES.join(', ')}` });
  return known;
}

/** A container's mounts (and the storages its emptyDir volumes need), in the order the runtime sends them. */
export function containerMounts(inputs: MountInputs): ContainerMounts {
  const { spec, container, at, locator } = inputs;
  const diskType = emptyDirType(inputs);
  const podSc = isRecord(spec.securityContext) ? spec.securityContext : {};
  const fsGroup = typeof podSc.fsGroup === 'number' && Number.isInteger(podSc.fsGroup) && podSc.fsGroup >= 0 ? podSc.fsGroup : undefined;
  const withGroup = fsGroup === undefined ? {} : { fsGroup };
  const access = inputs.readonlyRoot ? 'ro' : 'rw';
  const terminationPath = typeof container.terminationMessagePath === 'string' ? container.terminationMessagePath : '/dev/termination-log';
  const cri: MountModel[] = [
    shared('/etc/hosts', ['rbind', 'rprivate', 'rw']),
    shared(terminationPath, ['rbind', 'rprivate', 'rw']),
    shared('/etc/hostname', ['rbind', 'rprivate', access]),
    shared('/etc/resolv.conf', ['rbind', 'rprivate', access]),
    fixed('/dev/shm', 'bind', SHM, ['rbind']),
  ];
  const volumes = Array.isArray(spec.volumes) ? spec.volumes : [];
  const storages: VolumeStorage[] = [];
  const volumeMounts = Array.isArray(container.volumeMounts) ? container.volumeMounts : [];
  volumeMounts.forEach((vm, j) => {
    if (!isRecord(vm)) return;
    const where = [...at, 'volumeMounts', j];
    const name = String(vm.name ?? '');
    const destination = String(vm.mountPath ?? '');
    if (!destination.startsWith('/')) locator.fail('manifest_field_invalid', `volumeMount '${name}' has mountPath '${destination}', which is not an absolute path`, [...where, 'mountPath'], 'write mountPath as an absolute path');
    const subPath = typeof vm.subPath === 'string' && vm.subPath !== '' ? vm.subPath : typeof vm.subPathExpr === 'string' && vm.subPathExpr !== '' ? '.+' : undefined;
    const mountAccess = vm.readOnly === true ? 'ro' : 'rw';
    const index = volumes.findIndex((v) => isRecord(v) && v.name === name);
    const volume = index >= 0 ? (volumes[index] as Record<string, unknown>) : undefined;
    let mount: MountModel;
    if (!volume) {
      if (!inputs.claimTemplates.includes(name)) locator.fail('manifest_field_invalid', `volumeMount '${name}' names no volume of the pod`, [...where, 'name'], 'add the volume to spec.volumes (or a volumeClaimTemplate), or fix the name');
      mount = shared(destination, ['rbind', propagation(vm), mountAccess]);
    } else if (isRecord(volume.emptyDir) || volume.emptyDir === null) {
      const memory = isRecord(volume.emptyDir) && volume.emptyDir.medium === 'Memory';
      if (!memory && diskType !== 'shared-fs') {
        // One block device per mount, mounted where the agent formats it.
        mount = { destination, type: 'bind', source: { kind: 'block', index: storages.filter((s) => s.kind === 'block').length }, options: ['rbind', 'rprivate', mountAccess] };
        storages.push({ kind: 'block', volume: name, encrypted: diskType === 'block-encrypted', ...withGroup });
      } else {
        const source: MountSource = memory ? { kind: 'ephemeral', volume: name, ...(subPath ? { subPath } : {}) } : { kind: 'local', volume: name, ...(subPath ? { subPath } : {}) };
        mount = { destination, type: memory ? 'bind' : 'local', source, options: ['rbind', 'rprivate', mountAccess] };
        if (!storages.some((s) => s.volume === name)) storages.push({ kind: memory ? 'ephemeral' : 'local', volume: name, ...withGroup });
      }
    } else if (SHARED_FILE_TYPES.some((t) => isRecord(volume[t]))) {
      mount = shared(destination, ['rbind', 'rprivate', 'ro']);
    } else if (isRecord(volume.persistentVolumeClaim)) {
      const ro = vm.readOnly === true || volume.persistentVolumeClaim.readOnly === true;
      mount = shared(destination, ['rbind', propagation(vm), ro ? 'ro' : 'rw']);
    } else if (isRecord(volume.hostPath)) {
      const hostPath = String(volume.hostPath.path ?? '');
      const device = hostPath.startsWith('/dev/') || hostPath.startsWith('/sys/');
      mount = device
        ? fixed(destination, 'bind', subPath && subPath !== '.+' ? posix.join(hostPath, subPath) : hostPath, ['rbind', propagation(vm), mountAccess])
        : shared(destination, ['rbind', propagation(vm), mountAccess]);
    } else {
      const type = Object.keys(volume).find((k) => k !== 'name') ?? '(none)';
      return locator.fail('manifest_volume_unsupported', `volume '${name}' is of type '${type}', which confidential pods cannot use`, ['volumes', index, type], `use one of ${SUPPORTED}; or remove the volume`);
    }
    const existing = cri.findIndex((m) => m.destination === destination);
    if (existing >= 0) cri[existing] = mount;
    else cri.push(mount);
  });
  const automount = spec.automountServiceAccountToken !== false;
  if (automount && !cri.some((m) => m.destination === SERVICE_ACCOUNT_PATH)) cri.push(shared(SERVICE_ACCOUNT_PATH, ['rbind', 'rprivate', 'ro']));
  for (const path of inputs.imageVolumes) {
    if (!cri.some((m) => m.destination === path)) cri.push(shared(path, ['rbind', 'rprivate', 'rw']));
  }
  // containerd orders mounts by depth (parents first), keeping the order of equals.
  const depth = (p: string) => p.split('/').filter(Boolean).length;
  const sorted = cri.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i).map((x) => x.m);
  const defaults = ociDefaults(inputs.privileged, false).filter((d) => !sorted.some((m) => m.destination === d.destination));
  // The runtime hands over memory-backed emptyDirs before the disk ones.
  const ordered = [...storages.filter((s) => s.kind === 'ephemeral'), ...storages.filter((s) => s.kind !== 'ephemeral')];
  return { mounts: [...defaults, ...sorted], storages: ordered };
}
