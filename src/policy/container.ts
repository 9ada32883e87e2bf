/**
 * One container as the Kata runtime will present it to the agent: process (args, env, user, cwd,
 * capabilities), root, mounts, storages (image layers pinned by dm-verity root hash, emptyDirs),
 * Linux settings and the exec commands its probes and hooks run. Both the policy entry and the
 * simulated request are rendered from this model.
 */
import { createHash } from 'node:crypto';
import { isRecord, type NodePath } from '../k8s/manifest.js';
import type { ImageInfo } from './images.js';
import type { PodLocator } from './errors.js';
import { commandLookup, expandVariables, imageEnv, kubeletEnv, mergeEnv, type EnvContext, type EnvEntry } from './env.js';
import { containerMounts, sandboxMounts, type MountModel, type VolumeStorage } from './mounts.js';
import { exactText, lit, type Value } from './parts.js';
import { podGroups, securityModel, type Capabilities } from './security.js';
import type { Settings } from './settings.js';
import { resolveUser, UserResolutionError, type ProcessUser } from './user.js';

export const SANDBOX_NAME = 'pause (sandbox)';

export interface LayerPin {
  /** tardev's directory name for the layer: SHA-256 of its chain ID. */
  name: string;
  rootHash: string;
}

export interface ContainerModel {
  name: string;
  type: 'sandbox' | 'container';
  imageName: string;
  /** The manifest digest resolved at generation time ('' when unknown). */
  imageDigest: string;
  terminal: boolean;
  user: ProcessUser;
  args: Value[];
  /** Variables the policy pins (image, HOSTNAME, envFrom, env). */
  env: EnvEntry[];
  /** Service-link variables: simulated, allowed by pattern. */
  serviceEnv: EnvEntry[];
  cwd: string;
  capabilities: Capabilities;
  noNewPrivileges: boolean;
  readonlyRoot: boolean;
  privileged: boolean;
  mounts: MountModel[];
  volumeStorages: VolumeStorage[];
  /** Image layers, top first (the order of the overlay's lowerdir). */
  layers: LayerPin[];
  sysctls: Record<string, string>;
  maskedPaths: string[];
  readonlyPaths: string[];
  execCommands: string[][];
  secretVariables: number;
  /** Passthrough GPUs the container asks for (resources.limits of a VFIO GPU resource). */
  vfioGpus: number;
}

/** Extended resources that are whole GPUs passed through by VFIO (genpolicy's `pgpu_resource_keys`). */
export const VFIO_GPU_RESOURCES = ['nvidia.com/pgpu'];

function vfioGpus(container: Record<string, unknown>): number {
  const resources = isRecord(container.resources) ? container.resources : {};
  const limits = isRecord(resources.limits) ? resources.limits : {};
  let n = 0;
  for (const key of VFIO_GPU_RESOURCES) {
    const v = Number(limits[key] ?? 0);
    if (Number.isInteger(v) && v > 0) n += v;
  }
  return n;
}

const sha256hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** Layers as tardev names them (SHA-256 of the chain ID), top first. */
export function layerPins(image: ImageInfo): LayerPin[] {
  const pins: LayerPin[] = [];
  let chain = '';
  for (const layer of image.layers) {
    chain = chain === '' ? layer.diffId : `sha256:${sha256hex(`${chain} ${layer.diffId}`)}`;
    pins.push({ name: sha256hex(chain), rootHash: layer.rootHash });
  }
  return pins.reverse();
}

export interface PodInputs {
  locator: PodLocator;
  settings: Settings;
  spec: Record<string, unknown>;
  envContext: EnvContext;
  hostname: Value;
  claimTemplates: string[];
}

function userOf(image: ImageInfo, run: { runAsUser?: number; runAsGroup?: number }, spec: Record<string, unknown>, locator: PodLocator, at: NodePath): ProcessUser {
  try {
    return resolveUser({ imageUser: image.config.user, passwd: image.passwd, group: image.group, ...run, ...podGroups(spec.securityContext) });
  } catch (error) {
    if (error instanceof UserResolutionError) return locator.fail('manifest_field_invalid', `${error.message} (image ${image.reference})`, at, 'set securityContext.runAsUser (and runAsGroup) to numeric IDs');
    throw error;
  }
}

/** The pause container: the pause image, its entrypoint, the pod's hostname and sysctls. */
export function sandboxModel(image: ImageInfo, pod: PodInputs, sysctls: Record<string, string>): ContainerModel {
  const podSc = isRecord(pod.spec.securityContext) ? pod.spec.securityContext : {};
  const security = securityModel({}, podSc, pod.settings);
  const args = [...(image.config.entrypoint ?? []), ...(image.config.cmd ?? [])].map(lit);
  return {
    name: SANDBOX_NAME,
    type: 'sandbox',
    imageName: image.reference,
    imageDigest: image.digest,
    terminal: false,
    user: userOf(image, security, pod.spec, pod.locator, ['securityContext']),
    args,
    env: imageEnv(image.config.env),
    serviceEnv: [],
    cwd: image.config.workingDir ?? '/',
    capabilities: security.capabilities,
    noNewPrivileges: true,
    readonlyRoot: true,
    privileged: false,
    mounts: sandboxMounts(),
    volumeStorages: [],
    layers: layerPins(image),
    sysctls: { ...pod.settings.sandbox.sysctls, ...sysctls },
    maskedPaths: pod.settings.sandbox.masked_paths,
    readonlyPaths: pod.settings.sandbox.readonly_paths,
    execCommands: [],
    secretVariables: 0,
    vfioGpus: 0,
  };
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.map((v) => String(v)) : undefined;
}

/** Commands of exec probes and lifecycle hooks; `$(VAR)` of literal variables expanded, as kubelet does. */
function execCommands(container: Record<string, unknown>, env: Map<string, Value>): string[][] {
  const handlers: unknown[] = [container.livenessProbe, container.readinessProbe, container.startupProbe];
  if (isRecord(container.lifecycle)) handlers.push(container.lifecycle.postStart, container.lifecycle.preStop);
  const out: string[][] = [];
  for (const h of handlers) {
    const command = isRecord(h) && isRecord(h.exec) ? stringList(h.exec.command) : undefined;
    if (!command || command.length === 0) continue;
    const staticLookup = (name: string) => {
      const v = env.get(name);
      return v && exactText(v) !== undefined ? v : undefined;
    };
    const expanded = command.map((arg) => exactText(expandVariables(arg, staticLookup)) ?? arg);
    if (!out.some((c) => JSON.stringify(c) === JSON.stringify(expanded))) out.push(expanded);
  }
  return out;
}

/** With tty: true containerd sets TERM=xterm (WithTTY), unless the image or the pod sets TERM, which wins. */
function withTerm(env: EnvEntry[], tty: boolean): EnvEntry[] {
  return tty && !env.some((e) => e.name === 'TERM') ? [...env, { name: 'TERM', value: lit('xterm') }] : env;
}

/** One container (or init container, or sidecar) of the pod. */
export function containerModel(container: Record<string, unknown>, at: NodePath, image: ImageInfo, pod: PodInputs): ContainerModel {
  const { locator, settings, spec } = pod;
  const name = String(container.name ?? '');
  const security = securityModel(container.securityContext, spec.securityContext, settings);
  const env = kubeletEnv(container, at, pod.envContext);
  const lookup = commandLookup(env);
  const command = stringList(container.command);
  const argsField = stringList(container.args);
  const raw = command !== undefined ? [...command, ...(argsField ?? [])] : [...(image.config.entrypoint ?? []), ...(argsField ?? image.config.cmd ?? [])];
  if (raw.length === 0) locator.fail('manifest_field_invalid', `container '${name}' has no command: neither the manifest nor image ${image.reference} gives one`, [...at, 'command'], 'set command (and args) on the container');
  const mounts = containerMounts({
    locator,
    settings,
    spec,
    container,
    at,
    privileged: security.privileged,
    readonlyRoot: security.readonlyRoot,
    claimTemplates: pod.claimTemplates,
    imageVolumes: image.config.volumes,
  });
  return {
    name,
    type: 'container',
    imageName: image.reference,
    imageDigest: image.digest,
    terminal: container.tty === true,
    user: userOf(image, security, spec, locator, [...at, 'securityContext']),
    args: raw.map((arg) => expandVariables(arg, lookup)),
    env: withTerm(mergeEnv(image.config.env, pod.hostname, env.declared), container.tty === true),
    serviceEnv: env.service,
    cwd: typeof container.workingDir === 'string' && container.workingDir !== '' ? container.workingDir : (image.config.workingDir ?? '/'),
    capabilities: security.capabilities,
    noNewPrivileges: security.noNewPrivileges,
    readonlyRoot: security.readonlyRoot,
    privileged: security.privileged,
    mounts: mounts.mounts,
    volumeStorages: mounts.storages,
    layers: layerPins(image),
    sysctls: { ...settings.container.sysctls },
    maskedPaths: security.privileged ? [] : settings.container.masked_paths,
    readonlyPaths: security.privileged ? [] : settings.container.readonly_paths,
    execCommands: settings.exec.probes_and_hooks ? execCommands(container, env.declared) : [],
    secretVariables: env.secretVariables,
    vfioGpus: vfioGpus(container),
  };
}
