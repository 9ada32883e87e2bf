/**
 * From the objects of a manifest stream to pod templates: which objects bear a policy (by kind and
 * runtime class), where their pod template is, what their pods will be called.
 */
import { isRecord, getAt, formatPath, type NodePath, type Resource } from './manifest.js';
import { workloadKind, type PodNamePattern, type WorkloadKind } from './kinds/index.js';

export interface PodTemplate {
  resource: Resource;
  kind: WorkloadKind;
  /** Path from the object to the template ({metadata, spec}). */
  templatePath: NodePath;
  metadata: Record<string, unknown>;
  spec: Record<string, unknown>;
  namespace: string;
  podName: PodNamePattern;
  /** Volume claim templates (StatefulSet), mounted like persistentVolumeClaim volumes. */
  claimTemplates: string[];
  /** Where the template's spec is, for messages: `spec.template.spec`. */
  specPath: string;
}

export type Selection = { template: PodTemplate } | { skipped: string } | undefined;

/**
 * Whether `name` is one of `classes`: a name, or a prefix written `kata-cc*`. An empty list takes
 * every pod (as genpolicy does when no runtime class is given). A bare string is a prefix (the old form).
 */
export function runtimeClassMatches(name: string, classes: readonly string[] | string): boolean {
  if (typeof classes === 'string') return name.startsWith(classes);
  if (classes.length === 0) return true;
  return classes.some((c) => (c.endsWith('*') ? name.startsWith(c.slice(0, -1)) : name === c));
}

const describeClasses = (classes: readonly string[] | string) => (typeof classes === 'string' ? `does not start with '${classes}'` : `is not one of ${classes.map((c) => `'${c}'`).join(', ')}`);

/**
 * The pod template of a policy-bearing object whose runtime class is one of `runtimeClass`;
 * `{skipped}` with the reason for a workload that is left alone; undefined for any other kind.
 */
export function selectPodTemplate(resource: Resource, runtimeClass: readonly string[] | string, defaultNamespace: string): Selection {
  const kind = workloadKind(resource.kind);
  if (!kind) return undefined;
  const template = getAt(resource.value, kind.templatePath);
  if (!isRecord(template) || !isRecord(template.spec)) {
    return { skipped: `${resource.kind}/${resource.name} has no pod template at ${formatPath([...kind.templatePath, 'spec']) || 'spec'}` };
  }
  const spec = template.spec;
  const runtimeClassName = typeof spec.runtimeClassName === 'string' ? spec.runtimeClassName : '';
  if (!runtimeClassMatches(runtimeClassName, runtimeClass)) {
    const named = runtimeClassName === '' ? 'has no runtimeClassName, which' : `runtimeClassName '${runtimeClassName}'`;
    return { skipped: `${resource.kind}/${resource.name}: ${named} ${describeClasses(runtimeClass)}` };
  }
  return {
    template: {
      resource,
      kind,
      templatePath: kind.templatePath,
      metadata: isRecord(template.metadata) ? template.metadata : {},
      spec,
      namespace: resource.namespace ?? defaultNamespace,
      podName: kind.podName(resource),
      claimTemplates: kind.claimTemplates?.(resource) ?? [],
      specPath: formatPath([...kind.templatePath, 'spec']),
    },
  };
}
