/**
 * Errors of policy generation. Each names the file, the document, the field path inside it and what
 * to do; codes are stable (tests and scripts match on them).
 */
import { InputError, CheckFailedError, type ErrorLocation } from '../core/errors.js';
import { formatPath, type NodePath } from '../k8s/manifest.js';
import type { PodTemplate } from '../k8s/workloads.js';

export type GenerateErrorCode =
  | 'manifest_configmap_missing'
  | 'manifest_secret_missing'
  | 'manifest_volume_unsupported'
  | 'manifest_field_invalid'
  | 'manifest_unknown_field'
  | 'manifest_image_failed'
  | 'image_offline_miss';

export class GenerateError extends InputError {
  constructor(code: GenerateErrorCode, message: string, options: { location: ErrorLocation; hint: string; cause?: unknown }) {
    super(code, message, options);
  }
}

/** The policy embedded in a manifest no longer matches what the manifest generates. Exit 1. */
export class DriftError extends CheckFailedError {
  constructor(message: string, options: { location: ErrorLocation; hint: string; details?: Record<string, unknown> }) {
    super('policy_drift', message, options);
  }
}

/** Where a pod template's fields are, for messages: paths are relative to the template's spec. */
export class PodLocator {
  constructor(readonly template: PodTemplate) {}

  /** Full path from the document root to a field of the pod spec. */
  path(inSpec: NodePath): string {
    const r = this.template.resource;
    return formatPath([...r.base, ...this.template.templatePath, 'spec', ...inSpec]);
  }

  at(inSpec: NodePath): ErrorLocation {
    const r = this.template.resource;
    return { file: r.file, document: r.document, path: this.path(inSpec) };
  }

  /** `Deployment/web` */
  get name(): string {
    return `${this.template.resource.kind}/${this.template.resource.name}`;
  }

  fail(code: GenerateErrorCode, message: string, inSpec: NodePath, hint: string, cause?: unknown): never {
    throw new GenerateError(code, `${this.name}: ${message}`, { location: this.at(inSpec), hint, cause });
  }
}
