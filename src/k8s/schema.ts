/**
 * The pod spec fields confcom knows. A field it does not know is reported as a warning naming its
 * path (never a crash): it may be a typo, or a newer Kubernetes field the policy does not account
 * for. `--strict` turns these warnings into errors.
 */
import { isRecord, formatPath, type NodePath } from './manifest.js';

class ListOf {
  constructor(readonly item: Shape) {}
}
type Shape = 'any' | ListOf | { [key: string]: Shape };

const ANY = 'any' as const;
const list = (item: Shape): Shape => new ListOf(item);
const fields = (names: string, extra: Record<string, Shape> = {}): Record<string, Shape> => ({ ...Object.fromEntries(names.split(/\s+/).filter(Boolean).map((n) => [n, ANY])), ...extra });

const execAction = fields('', { exec: fields('command') });
const handler = fields('httpGet tcpSocket sleep', { exec: fields('command') });
const probe = fields('httpGet tcpSocket grpc initialDelaySeconds periodSeconds timeoutSeconds successThreshold failureThreshold terminationGracePeriodSeconds', execAction);
const securityContext = fields('appArmorProfile privileged procMount readOnlyRootFilesystem runAsGroup runAsNonRoot runAsUser seLinuxOptions seccompProfile windowsOptions allowPrivilegeEscalation', {
  capabilities: fields('add drop'),
});
const envVar = fields('name value', {
  valueFrom: fields('', {
    fieldRef: fields('apiVersion fieldPath'),
    resourceFieldRef: fields('containerName divisor resource'),
    configMapKeyRef: fields('name key optional'),
    secretKeyRef: fields('name key optional'),
  }),
});
const envFrom = fields('prefix', { configMapRef: fields('name optional'), secretRef: fields('name optional') });
const container = fields(
  'args command image imagePullPolicy name ports resizePolicy resources restartPolicy stdin stdinOnce terminationMessagePath terminationMessagePolicy tty volumeDevices workingDir',
  {
    env: list(envVar),
    envFrom: list(envFrom),
    lifecycle: fields('stopSignal', { postStart: handler, preStop: handler }),
    livenessProbe: probe,
    readinessProbe: probe,
    startupProbe: probe,
    securityContext,
    volumeMounts: list(fields('mountPath mountPropagation name readOnly recursiveReadOnly subPath subPathExpr')),
  },
);
/** Every volume source Kubernetes defines; which ones confcom supports is decided when mounts are built. */
const volume = fields(
  'name awsElasticBlockStore azureDisk azureFile cephfs cinder configMap csi downwardAPI emptyDir ephemeral fc flexVolume flocker gcePersistentDisk gitRepo glusterfs hostPath image iscsi nfs persistentVolumeClaim photonPersistentDisk portworxVolume projected quobyte rbd scaleIO secret storageos vsphereVolume',
);
const podSecurityContext = fields(
  'appArmorProfile fsGroup fsGroupChangePolicy runAsGroup runAsNonRoot runAsUser seLinuxChangePolicy seLinuxOptions seccompProfile supplementalGroups supplementalGroupsPolicy windowsOptions',
  { sysctls: list(fields('name value')) },
);
const podSpec = fields(
  'activeDeadlineSeconds affinity automountServiceAccountToken dnsConfig dnsPolicy enableServiceLinks ephemeralContainers hostAliases hostIPC hostNetwork hostPID hostUsers hostname imagePullSecrets nodeName nodeSelector os overhead preemptionPolicy priority priorityClassName readinessGates resourceClaims resources restartPolicy runtimeClassName schedulerName schedulingGates serviceAccount serviceAccountName setHostnameAsFQDN shareProcessNamespace subdomain terminationGracePeriodSeconds tolerations topologySpreadConstraints',
  { containers: list(container), initContainers: list(container), securityContext: podSecurityContext, volumes: list(volume) },
);

export interface FieldWarning {
  /** Full path from the object, e.g. `spec.template.spec.containers[0].securityContxt`. */
  path: string;
  message: string;
}

function walk(value: unknown, shape: Shape, path: NodePath, out: FieldWarning[]): void {
  if (shape === ANY || value === null || value === undefined) return;
  if (shape instanceof ListOf) {
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, shape.item, [...path, i], out));
    return;
  }
  if (!isRecord(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const childShape: Shape | undefined = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (childShape === undefined) {
      out.push({ path: formatPath([...path, key]), message: `unknown field ${formatPath([...path, key])} (ignored by the policy generator)` });
      continue;
    }
    walk(child, childShape, [...path, key], out);
  }
}

/** Warnings for every field of a pod spec that confcom does not know; `specPath` prefixes the paths. */
export function checkKnownFields(spec: Record<string, unknown>, specPath: NodePath): FieldWarning[] {
  const out: FieldWarning[] = [];
  walk(spec, podSpec, specPath, out);
  return out;
}
