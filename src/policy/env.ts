/**
 * The environment the runtime gives a container, as kubelet and containerd build it: the image's
 * `Env`, then `HOSTNAME`, then `envFrom` (with `prefix`) and `env` (literals with `$(VAR)` expansion,
 * `valueFrom` fieldRef / resourceFieldRef / configMapKeyRef / secretKeyRef); a later definition of a
 * name replaces an earlier one in place. Service-link variables are allowed by the settings' patterns.
 *
 * ConfigMap values are pinned. Secret values never enter the policy: such a variable is allowed with
 * any value (the caller tells the user once per pod).
 */
import { isRecord, type NodePath } from '../k8s/manifest.js';
import type { ConfigStore } from '../k8s/configs.js';
import type { PodNamePattern } from '../k8s/kinds/index.js';
import type { PodLocator } from './errors.js';
import { concatValues, lit, type Value } from './parts.js';
import { divideCeil } from './quantity.js';
import { SAMPLE } from './samples.js';

export interface EnvEntry {
  name: string;
  value: Value;
}

export interface EnvContext {
  locator: PodLocator;
  configs: ConfigStore;
  namespace: string;
  /** False when the manifest names no namespace: the pod may then run in any (the policy pins none). */
  namespaceFixed?: boolean;
  podName: PodNamePattern;
  /** The pod template's metadata (labels and annotations for fieldRef). */
  metadata: Record<string, unknown>;
  spec: Record<string, unknown>;
  patterns: Record<string, string>;
  /** Names of the pod's containers with their resources, for resourceFieldRef.containerName. */
  containers: Record<string, unknown>[];
}

const runtime = (re: string, sample: string): Value => [{ re, sample }];

/** A Kubernetes namespace name (a DNS label). */
export const NAMESPACE_PATTERN = '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?';

/** kubelet's `$(VAR)` expansion: `$$` is `$`, an unknown `$(VAR)` stays as written. */
export function expandVariables(input: string, lookup: (name: string) => Value | undefined): Value {
  const out: Value[] = [];
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out.push(lit(input.slice(checkpoint, cursor)));
    const next = input[cursor + 1];
    let advance = 1;
    if (next === '$') out.push(lit('$'));
    else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close < 0) out.push(lit('$('));
      else {
        const name = input.slice(cursor + 2, close);
        out.push(lookup(name) ?? lit(`$(${name})`));
        advance = close - cursor;
      }
    } else out.push(lit(`$${next}`));
    cursor += advance;
    checkpoint = cursor + 1;
  }
  out.push(lit(input.slice(checkpoint)));
  return concatValues(...out);
}

/** The service-link variables of the `kubernetes` service, present in every container. */
export function kubernetesServiceEnv(patterns: Record<string, string>): EnvEntry[] {
  const ip = runtime(patterns.ipv4, SAMPLE.kubernetesServiceIp);
  const url = concatValues(lit('tcp://'), ip, lit(':443'));
  return [
    { name: 'KUBERNETES_SERVICE_HOST', value: ip },
    { name: 'KUBERNETES_SERVICE_PORT', value: lit('443') },
    { name: 'KUBERNETES_SERVICE_PORT_HTTPS', value: lit('443') },
    { name: 'KUBERNETES_PORT', value: url },
    { name: 'KUBERNETES_PORT_443_TCP', value: url },
    { name: 'KUBERNETES_PORT_443_TCP_PROTO', value: lit('tcp') },
    { name: 'KUBERNETES_PORT_443_TCP_PORT', value: lit('443') },
    { name: 'KUBERNETES_PORT_443_TCP_ADDR', value: ip },
  ];
}

/** Labels the controllers add to pods, which the template does not show. */
function controllerLabel(key: string, ctx: EnvContext): Value | undefined {
  const podName = runtime(ctx.podName.regex.slice(1, -1), ctx.podName.sample);
  switch (key) {
    case 'pod-template-hash':
    case 'controller-revision-hash':
      return runtime('[a-z0-9]{1,16}', '6d4cf56db6');
    case 'statefulset.kubernetes.io/pod-name':
      return podName;
    case 'apps.kubernetes.io/pod-index':
    case 'batch.kubernetes.io/job-completion-index':
      return runtime(ctx.patterns.number, '0');
    case 'controller-uid':
    case 'batch.kubernetes.io/controller-uid':
      return runtime(ctx.patterns.uid, SAMPLE.uid);
    case 'job-name':
    case 'batch.kubernetes.io/job-name':
      return runtime('[a-z0-9]([-a-z0-9.]*[a-z0-9])?', ctx.podName.sample.replace(/-[a-z0-9]{5}$/, ''));
    default:
      return undefined;
  }
}

function metadataEntry(field: 'labels' | 'annotations', key: string, ctx: EnvContext): Value {
  const map = isRecord(ctx.metadata[field]) ? ctx.metadata[field] : {};
  const value = map[key];
  if (typeof value === 'string') return lit(value);
  return (field === 'labels' ? controllerLabel(key, ctx) : undefined) ?? lit('');
}

function fieldRefValue(fieldPath: string, ctx: EnvContext, at: NodePath): Value {
  const p = ctx.patterns;
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (m) return metadataEntry(m[1] as 'labels' | 'annotations', m[2], ctx);
  switch (fieldPath) {
    case 'metadata.name':
      return ctx.podName.exact !== undefined ? lit(ctx.podName.exact) : runtime(ctx.podName.regex.slice(1, -1), ctx.podName.sample);
    case 'metadata.namespace':
      return ctx.namespaceFixed === false ? runtime(NAMESPACE_PATTERN, ctx.namespace) : lit(ctx.namespace);
    case 'metadata.uid':
      return runtime(p.uid, SAMPLE.uid);
    case 'spec.nodeName':
      return runtime(p.node_name, SAMPLE.nodeName);
    case 'spec.serviceAccountName': {
      const sa = ctx.spec.serviceAccountName ?? ctx.spec.serviceAccount;
      return lit(typeof sa === 'string' ? sa : 'default');
    }
    case 'status.hostIP':
    case 'status.podIP':
      return runtime(p.ipv4, fieldPath === 'status.podIP' ? SAMPLE.podIp : SAMPLE.hostIp);
    case 'status.hostIPs':
    case 'status.podIPs':
      return runtime(p.ips, fieldPath === 'status.podIPs' ? SAMPLE.podIp : SAMPLE.hostIp);
    default:
      return ctx.locator.fail('manifest_field_invalid', `fieldRef '${fieldPath}' is not a field the downward API offers to environment variables`, at, 'use metadata.name, metadata.namespace, metadata.uid, metadata.labels[...], metadata.annotations[...], spec.nodeName, spec.serviceAccountName, status.podIP(s) or status.hostIP(s)');
  }
}

function resourceFieldValue(ref: Record<string, unknown>, container: Record<string, unknown>, ctx: EnvContext, at: NodePath): Value {
  const resource = typeof ref.resource === 'string' ? ref.resource : '';
  const m = /^(limits|requests)\.(cpu|memory|ephemeral-storage|hugepages-.+)$/.exec(resource);
  if (!m) return ctx.locator.fail('manifest_field_invalid', `resourceFieldRef resource '${resource}' is not supported`, [...at, 'resource'], 'use limits.cpu, limits.memory, limits.ephemeral-storage, requests.cpu, requests.memory or requests.ephemeral-storage');
  const target = typeof ref.containerName === 'string' && ref.containerName !== '' ? ctx.containers.find((c) => c.name === ref.containerName) : container;
  if (!target) return ctx.locator.fail('manifest_field_invalid', `resourceFieldRef names container '${String(ref.containerName)}', which the pod does not have`, [...at, 'containerName'], 'name one of the pod\'s containers');
  const resources = isRecord(target.resources) ? target.resources : {};
  const set = isRecord(resources[m[1]]) ? (resources[m[1]] as Record<string, unknown>) : {};
  // A request that is not set defaults to the limit; a limit that is not set is the node's capacity.
  const fallback = m[1] === 'requests' && isRecord(resources.limits) ? (resources.limits as Record<string, unknown>)[m[2]] : undefined;
  const quantity = set[m[2]] ?? fallback;
  const divisor = ref.divisor === undefined ? '1' : String(ref.divisor);
  if (quantity === undefined) return runtime(ctx.patterns.number, SAMPLE.number);
  const value = divideCeil(String(quantity), divisor);
  if (value === undefined) return ctx.locator.fail('manifest_field_invalid', `cannot divide quantity '${String(quantity)}' by divisor '${divisor}'`, [...at, 'divisor'], 'write quantities as Kubernetes does, e.g. 500m, 64Mi, 1');
  return lit(value);
}

export interface ContainerEnv {
  /** kubelet's variables from envFrom and env, in order. */
  declared: Map<string, Value>;
  /** The service-link variables kubelet adds (not pinned: the settings' patterns allow them). */
  service: EnvEntry[];
  /** Number of variables whose value comes from a Secret. */
  secretVariables: number;
}

/** kubelet's part: envFrom then env, expanded; and the service-link variables not otherwise set. */
export function kubeletEnv(container: Record<string, unknown>, at: NodePath, ctx: EnvContext): ContainerEnv {
  const env = new Map<string, Value>();
  let secretVariables = 0;
  const service = new Map(kubernetesServiceEnv(ctx.patterns).map((e) => [e.name, e.value]));
  const envFrom = Array.isArray(container.envFrom) ? container.envFrom : [];
  envFrom.forEach((source, i) => {
    if (!isRecord(source)) return;
    const where = [...at, 'envFrom', i];
    const prefix = typeof source.prefix === 'string' ? source.prefix : '';
    if (isRecord(source.configMapRef)) {
      const name = String(source.configMapRef.name ?? '');
      const cm = ctx.configs.configMap(ctx.namespace, name);
      if (!cm) {
        if (source.configMapRef.optional === true) return;
        ctx.locator.fail('manifest_configmap_missing', `ConfigMap '${name}' (namespace '${ctx.namespace}') is not among the inputs`, [...where, 'configMapRef', 'name'], 'add the ConfigMap to the input files or pass it with --config-file FILE (or mark the reference optional: true)');
      }
      for (const [key, value] of cm.values) if (value !== undefined && !key.includes('=')) env.set(prefix + key, lit(value));
    } else if (isRecord(source.secretRef)) {
      const name = String(source.secretRef.name ?? '');
      const secret = ctx.configs.secret(ctx.namespace, name);
      if (!secret) {
        if (source.secretRef.optional === true) return;
        ctx.locator.fail('manifest_secret_missing', `Secret '${name}' (namespace '${ctx.namespace}') is not among the inputs, so the names of its variables are unknown`, [...where, 'secretRef', 'name'], 'pass the Secret manifest with --config-file FILE (only its key names are read; values never enter the policy)');
      }
      for (const key of secret.keys) {
        if (key.includes('=')) continue;
        env.set(prefix + key, [{ re: ctx.patterns.any, sample: SAMPLE.secret, secret: true }]);
        secretVariables++;
      }
    }
  });
  const vars = Array.isArray(container.env) ? container.env : [];
  vars.forEach((v, i) => {
    if (!isRecord(v) || typeof v.name !== 'string') return;
    const where = [...at, 'env', i];
    const lookup = (name: string) => env.get(name) ?? service.get(name);
    if (isRecord(v.valueFrom)) {
      const from = v.valueFrom;
      if (isRecord(from.fieldRef)) env.set(v.name, fieldRefValue(String(from.fieldRef.fieldPath ?? ''), ctx, [...where, 'valueFrom', 'fieldRef', 'fieldPath']));
      else if (isRecord(from.resourceFieldRef)) env.set(v.name, resourceFieldValue(from.resourceFieldRef, container, ctx, [...where, 'valueFrom', 'resourceFieldRef']));
      else if (isRecord(from.configMapKeyRef)) {
        const ref = from.configMapKeyRef;
        const name = String(ref.name ?? '');
        const key = String(ref.key ?? '');
        const cm = ctx.configs.configMap(ctx.namespace, name);
        const value = cm?.values.get(key);
        if (value === undefined) {
          if (ref.optional === true) return;
          const what = cm ? `ConfigMap '${name}' has no key '${key}' in its data` : `ConfigMap '${name}' (namespace '${ctx.namespace}') is not among the inputs`;
          ctx.locator.fail('manifest_configmap_missing', what, [...where, 'valueFrom', 'configMapKeyRef'], cm ? 'add the key to the ConfigMap or fix the reference' : 'add the ConfigMap to the input files or pass it with --config-file FILE (or mark the reference optional: true)');
        }
        env.set(v.name, lit(value));
      } else if (isRecord(from.secretKeyRef)) {
        env.set(v.name, [{ re: ctx.patterns.any, sample: SAMPLE.secret, secret: true }]);
        secretVariables++;
      } else {
        ctx.locator.fail('manifest_field_invalid', `env variable '${v.name}' has a valueFrom with no supported source`, [...where, 'valueFrom'], 'use fieldRef, resourceFieldRef, configMapKeyRef or secretKeyRef');
      }
      return;
    }
    env.set(v.name, expandVariables(typeof v.value === 'string' ? v.value : v.value === undefined || v.value === null ? '' : String(v.value), lookup));
  });
  return { declared: env, service: [...service].filter(([name]) => !env.has(name)).map(([name, value]) => ({ name, value })), secretVariables };
}

/** `$(VAR)` lookups in command and args see every kubelet variable. */
export function commandLookup(env: ContainerEnv): (name: string) => Value | undefined {
  return (name) => env.declared.get(name) ?? env.service.find((e) => e.name === name)?.value;
}

/** The image's `Env` (NAME=value strings) as entries; a repeated name replaces in place. */
export function imageEnv(env: readonly string[]): EnvEntry[] {
  const out: EnvEntry[] = [];
  for (const entry of env) {
    const eq = entry.indexOf('=');
    if (eq > 0) setEnv(out, entry.slice(0, eq), lit(entry.slice(eq + 1)));
  }
  return out;
}

function setEnv(out: EnvEntry[], name: string, value: Value): void {
  const found = out.find((e) => e.name === name);
  if (found) found.value = value;
  else out.push({ name, value });
}

/** containerd's merge: image variables, HOSTNAME, then kubelet's; a repeated name replaces in place. */
export function mergeEnv(env: readonly string[], hostname: Value, kubelet: Map<string, Value>): EnvEntry[] {
  const out = imageEnv(env);
  const set = (name: string, value: Value) => setEnv(out, name, value);
  set('HOSTNAME', hostname);
  for (const [name, value] of kubelet) set(name, value);
  return out;
}
