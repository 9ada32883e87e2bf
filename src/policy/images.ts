/**
 * Where the generator gets images: an `ImageResolver` (the OCI part in production, a fake in unit
 * tests). Each reference is resolved once per run, however many pods use it.
 *
 * Several local sources (`--image-source`, repeatable) are searched by reference: an OCI layout whose
 * index names the image (its tag, or the full reference as containerd and buildah write it) or holds
 * its digest is read by that digest; a layout of one unnamed image answers any reference, and docker
 * archives are tried in order after that. A local source needs no network, so `--offline` only forbids
 * registries.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageError } from '../oci/errors.js';
import { inspectImage, type ImageInfo, type ImageOptions } from '../oci/index.js';
import { formatReference, parseImageReference, type ImageReference } from '../oci/reference.js';

export type { ImageInfo, ImageOptions } from '../oci/index.js';

export interface ImageResolver {
  resolve(reference: string): Promise<ImageInfo>;
}

export interface ResolverOptions extends Omit<ImageOptions, 'imageSource'> {
  /** `oci-layout:DIR` or `docker-archive:FILE`, searched in order. */
  imageSources?: readonly string[];
  /** The single-source form (kept for callers that have one). */
  imageSource?: string;
}

interface LayoutEntry {
  digest: string;
  names: string[];
}

const REF_ANNOTATIONS = ['org.opencontainers.image.ref.name', 'io.containerd.image.name'];

/** The names a layout entry may use for an image: its tag, `repo:tag`, or the full reference. */
function namesOf(ref: ImageReference): Set<string> {
  const names = new Set<string>();
  if (ref.tag !== undefined) {
    names.add(ref.tag);
    names.add(`${ref.repository}:${ref.tag}`);
    names.add(formatReference({ ...ref, digest: undefined }));
    if (ref.registry === 'docker.io') names.add(`${ref.repository.replace(/^library\//, '')}:${ref.tag}`);
  }
  return names;
}

export class OciImageResolver implements ImageResolver {
  private readonly seen = new Map<string, Promise<ImageInfo>>();
  private readonly layouts = new Map<string, Promise<LayoutEntry[] | undefined>>();
  private readonly sources: readonly string[];

  constructor(private readonly options: ResolverOptions = {}) {
    this.sources = options.imageSources ?? (options.imageSource === undefined ? [] : [options.imageSource]);
    for (const s of this.sources) {
      if (!s.startsWith('oci-layout:') && !s.startsWith('docker-archive:')) {
        throw new ImageError('image_reference_invalid', `unknown image source '${s}'`, { hint: "use 'oci-layout:DIR' or 'docker-archive:FILE' (repeatable)" });
      }
    }
  }

  resolve(reference: string): Promise<ImageInfo> {
    let found = this.seen.get(reference);
    if (!found) {
      found = this.inspect(reference);
      this.seen.set(reference, found);
    }
    return found;
  }

  private async inspect(reference: string): Promise<ImageInfo> {
    const { imageSources: _many, imageSource: _one, ...rest } = this.options;
    if (this.sources.length === 0) return inspectImage(reference, rest);
    // Local sources open no connection: --offline is about registries.
    const local: ImageOptions = { ...rest, offline: false };
    const ref = parseImageReference(reference);
    const candidates = await this.candidates(ref);
    let lastError: unknown;
    for (const { source, digest } of candidates) {
      try {
        if (digest === undefined || ref.digest !== undefined) return await inspectImage(reference, { ...local, imageSource: source });
        // Found by name: read the entry by its digest, report the reference the pod gave.
        const info = await inspectImage(formatReference({ ...ref, digest }), { ...local, imageSource: source });
        return { ...info, reference: formatReference(ref) };
      } catch (error) {
        if (!(error instanceof ImageError) || error.code !== 'image_not_found' || candidates.length === 1) throw error;
        lastError = error;
      }
    }
    throw new ImageError('image_not_found', `no --image-source holds ${formatReference(ref)} (searched ${this.sources.join(', ')})`, {
      image: formatReference(ref),
      hint: 'add a source that holds it (--image-source oci-layout:DIR, repeatable), or name the image as the layout index does',
      cause: lastError,
    });
  }

  /** Sources that may hold the image, best first: named or digest matches, then catch-all layouts, then archives. */
  private async candidates(ref: ImageReference): Promise<{ source: string; digest?: string }[]> {
    const names = namesOf(ref);
    const exact: { source: string; digest?: string }[] = [];
    const fallback: { source: string; digest?: string }[] = [];
    for (const source of this.sources) {
      if (!source.startsWith('oci-layout:')) {
        fallback.push({ source });
        continue;
      }
      const entries = await this.layoutIndex(source.slice('oci-layout:'.length));
      if (entries === undefined) {
        fallback.push({ source });
        continue;
      }
      const hit = entries.find((e) => (ref.digest !== undefined && e.digest === ref.digest) || e.names.some((n) => names.has(n)));
      if (hit) exact.push({ source, digest: hit.digest });
      else if (entries.length === 1 && entries[0].names.length === 0) fallback.unshift({ source });
    }
    return exact.length > 0 ? exact : fallback.length > 0 ? fallback : this.sources.map((source) => ({ source }));
  }

  private layoutIndex(dir: string): Promise<LayoutEntry[] | undefined> {
    let found = this.layouts.get(dir);
    if (!found) {
      found = readFile(join(dir, 'index.json'), 'utf8').then(
        (text) => {
          const index = JSON.parse(text) as { manifests?: { digest?: string; annotations?: Record<string, string> }[] };
          return (index.manifests ?? []).filter((m) => typeof m.digest === 'string').map((m) => ({ digest: m.digest as string, names: REF_ANNOTATIONS.map((a) => m.annotations?.[a]).filter((n): n is string => typeof n === 'string') }));
        },
        () => undefined,
      );
      this.layouts.set(dir, found);
    }
    return found;
  }
}
