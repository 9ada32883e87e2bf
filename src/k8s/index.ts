/** Kubernetes manifests: loading, pod templates of every workload kind, ConfigMaps and Secrets, writing back. */
export { parseManifest, loadManifest, listResources, serializeManifest, setAnnotation, getAt, formatPath, isRecord, type ManifestFile, type ManifestDocument, type Resource, type NodePath } from './manifest.js';
export { ConfigStore, type ConfigMapData, type SecretKeys } from './configs.js';
export { selectPodTemplate, runtimeClassMatches, type PodTemplate, type Selection } from './workloads.js';
export { WORKLOAD_KINDS, workloadKind, escapeRegex, type WorkloadKind, type PodNamePattern } from './kinds/index.js';
export { checkKnownFields, type FieldWarning } from './schema.js';
