/**
 * Policy generation: Kubernetes manifests to Kata agent policies (our rules + policy_data), with
 * layer pins, settings drop-ins, output formats (aks annotation, initdata), drift checks and the
 * simulated agent requests of each pod.
 */
export { loadSettings, defaultSettings, type Settings } from './settings.js';
export { OciImageResolver, type ImageResolver } from './images.js';
export { generatePolicies, modelPods, loadManifests, policyText, type GenerateOptions, type GeneratedPolicy, type PodEntry } from './generate.js';
export { checkDrift, embeddedPolicies, firstDifference, type EmbeddedPolicy, type CheckResult } from './check.js';
export { simulatePod, type SimulatedRequest } from './simulate.js';
export { encodePolicy, decodePolicy, initdataToml, AKS_ANNOTATION, INITDATA_ANNOTATION, POLICY_FORMATS, type PolicyFormat } from './formats/index.js';
export { renderPolicy, rulesRego, parsePolicy } from './render.js';
export { buildPodModel, type PodModel } from './pod.js';
export type { JsonValue } from './policy-data.js';
export { GenerateError, DriftError } from './errors.js';
