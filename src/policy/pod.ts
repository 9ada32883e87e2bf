/**
 * A pod template to the model of everything the Kata runtime will ask the agent for it: the sandbox
 * (pause container) and every init container, sidecar and container, with their images resolved.
 */
import { isRecord, type NodePath } from '../k8s/manifest.js';
import type { ConfigStore } from '../k8s/configs.js';
import type { PodTemplate } from '../k8s/workloads.js';
import type { PodNamePattern } from '../k8s/kinds/index.js';
import { checkKnownFields } from '../k8s/schema.js';
import { ConfcomError } from '../core/errors.js';
import { containerModel, sandboxModel, type ContainerModel, type PodInputs } from './container.js';
import { GenerateError, PodLocator } from './errors.js';
import type { ImageInfo, ImageResolver } from './images.js';
import { lit, type Value } from './parts.js';
import { podSysctls } from './security.js';
import type { Settings } from './settings.js';

export interface PodModel {
  template: PodTemplate;
  locator: PodLocator;
  namespace: string;
  /** Whether the manifest names the namespace (else the pod may run in any, and the policy pins none). */
  namespaceFixed: boolean;
  podName: PodNamePattern;
  hostname: Value;
  sandboxPidns: boolean;
  /** The sandbox first, then init containers (sidecars included) and containers, in manifest order. */
  containers: ContainerModel[];
  /** How many environment variables take their value from a Secret (allowed with any value). */
  secretVariables: number;
  /** Unknown fields and other notices, with field paths. */
  warnings: string[];
}

export interface BuildOptions {
  settings: Settings;
  configs: ConfigStore;
  images: ImageResolver;
  strict?: boolean;
}

/** `at` is the container's path in the manifest; undefined for the sandbox, whose image comes from settings. */
async function resolveImage(images: ImageResolver, reference: string, locator: PodLocator, at: NodePath | undefined): Promise<ImageInfo> {
  try {
    return await images.resolve(reference);
  } catch (error) {
    const cause = error instanceof ConfcomError ? error : undefined;
    const message = error instanceof Error ? error.message : String(error);
    const what = at ? `image '${reference}'` : `the sandbox (pause) image '${reference}' from settings (pause_image)`;
    const fallback = 'check the image reference, registry access (--insecure-registry, docker config) or use --image-source / --offline with a filled cache';
    const settingsHint = "it is not in the manifest: set pause_image in a --settings file to an image you can reach, or give one with --image-source";
    throw new GenerateError(cause?.code === 'image_offline_miss' ? 'image_offline_miss' : 'manifest_image_failed', `${locator.name}: ${what} cannot be used: ${message}`, {
      location: at ? locator.at(at) : { ...locator.at([]), path: undefined },
      hint: at ? (cause?.hint ?? fallback) : `${settingsHint}${cause?.hint ? `; ${cause.hint}` : ''}`,
      cause: error,
    });
  }
}

export async function buildPodModel(template: PodTemplate, options: BuildOptions): Promise<PodModel> {
  const locator = new PodLocator(template);
  const spec = template.spec;
  const unknown = checkKnownFields(spec, [...template.resource.base, ...template.templatePath, 'spec']);
  const warnings = unknown.map((w) => w.message);
  if (options.strict && unknown.length > 0) {
    const first = unknown[0];
    throw new GenerateError('manifest_unknown_field', `${locator.name}: ${first.message}`, {
      location: { file: template.resource.file, document: template.resource.document, path: first.path },
      hint: 'remove or correct the field, or run without --strict to treat unknown fields as warnings',
    });
  }
  if (spec.hostNetwork === true) {
    // As genpolicy: the runtime shares the node's network namespace, which lives outside the TEE.
    warnings.push(`${locator.path(['hostNetwork'])}: hostNetwork: true: the pod uses the node's network, which the host controls (traffic outside the TEE can be read and changed); protect it end to end`);
  }
  for (const field of ['hostPID', 'hostIPC'] as const) {
    if (spec[field] === true) locator.fail('manifest_field_invalid', `${field}: true shares the node's namespaces, which a confidential pod cannot do`, [field], `remove ${field} from the pod spec`);
  }
  if (Array.isArray(spec.ephemeralContainers) && spec.ephemeralContainers.length > 0) {
    warnings.push(`${locator.path(['ephemeralContainers'])}: ephemeral containers are not in the policy (the agent will refuse them)`);
  }
  const hostname = typeof spec.hostname === 'string' && spec.hostname !== '' ? lit(spec.hostname) : template.podName.exact !== undefined ? lit(template.podName.exact) : [{ re: template.podName.regex.slice(1, -1), sample: template.podName.sample }];
  const groups: [string, Record<string, unknown>[]][] = [
    ['initContainers', Array.isArray(spec.initContainers) ? spec.initContainers.filter(isRecord) : []],
    ['containers', Array.isArray(spec.containers) ? spec.containers.filter(isRecord) : []],
  ];
  const all = groups.flatMap(([, list]) => list);
  if (all.length === 0) locator.fail('manifest_field_invalid', 'the pod has no containers', ['containers'], 'add at least one container');
  const inputs: PodInputs = {
    locator,
    settings: options.settings,
    spec,
    hostname,
    claimTemplates: template.claimTemplates,
    envContext: {
      locator,
      configs: options.configs,
      namespace: template.namespace,
      namespaceFixed: template.resource.namespace !== undefined,
      podName: template.podName,
      metadata: template.metadata,
      spec,
      patterns: options.settings.env.patterns,
      containers: all,
    },
  };
  const pause = await resolveImage(options.images, options.settings.pause_image, locator, undefined);
  const containers: ContainerModel[] = [sandboxModel(pause, inputs, podSysctls(spec.securityContext))];
  for (const [field, list] of groups) {
    for (const [i, container] of list.entries()) {
      const at = [field, i];
      const reference = typeof container.image === 'string' ? container.image : '';
      if (reference === '') locator.fail('manifest_field_invalid', `container '${String(container.name)}' has no image`, [...at, 'image'], 'set the container image');
      const image = await resolveImage(options.images, reference, locator, [...at, 'image']);
      containers.push(containerModel(container, at, image, inputs));
    }
  }
  const names = containers.map((c) => c.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) locator.fail('manifest_field_invalid', `two containers are named '${duplicate}'`, ['containers'], 'give every container and init container a distinct name');
  return {
    template,
    locator,
    namespace: template.namespace,
    namespaceFixed: template.resource.namespace !== undefined,
    podName: template.podName,
    hostname,
    sandboxPidns: spec.shareProcessNamespace === true,
    containers,
    secretVariables: containers.reduce((n, c) => n + c.secretVariables, 0),
    warnings,
  };
}
