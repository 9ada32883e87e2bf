/**
 * Image references as Docker parses them: `[registry/]repository[:tag][@digest]`. A first component
 * is a registry only when it contains '.' or ':' or is `localhost`; otherwise the registry is
 * docker.io and one-component repositories get the `library/` prefix. No tag and no digest means
 * `latest`.
 */
import { ImageError } from './errors.js';

export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export const DEFAULT_REGISTRY = 'docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

function invalid(ref: string, why: string): ImageError {
  return new ImageError('image_reference_invalid', `invalid image reference '${ref}': ${why}`, { hint: 'write it as [registry/]repository[:tag][@sha256:<64 hex>], e.g. docker.io/library/nginx:1.27' });
}

export function parseImageReference(ref: string): ImageReference {
  let rest = ref.trim();
  if (!rest) throw invalid(ref, 'empty');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(ref, `digest '${digest}' is not sha256:<64 lower-case hex>`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(ref, `tag '${tag}' is not valid`);
  }
  const parts = rest.split('/');
  let registry = DEFAULT_REGISTRY;
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) registry = parts.shift() as string;
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && parts.length === 1) parts.unshift('library');
  for (const part of parts) if (!COMPONENT.test(part)) throw invalid(ref, `repository component '${part}' must be lower-case letters, digits and separators`);
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { registry, repository: parts.join('/'), ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** The canonical text form: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}
