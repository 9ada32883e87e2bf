/**
 * Where the generator gets images: an `ImageResolver` (the OCI part in production, a fake in unit
 * tests). Each reference is resolved once per run, however many pods use it.
 */
import { inspectImage, type ImageInfo, type ImageOptions } from '../oci/index.js';

export type { ImageInfo, ImageOptions } from '../oci/index.js';

export interface ImageResolver {
  resolve(reference: string): Promise<ImageInfo>;
}

/** Resolves through src/oci (registry, OCI layout or docker archive, with the layer pin cache). */
export class OciImageResolver implements ImageResolver {
  private readonly seen = new Map<string, Promise<ImageInfo>>();
  constructor(private readonly options: ImageOptions = {}) {}

  resolve(reference: string): Promise<ImageInfo> {
    let found = this.seen.get(reference);
    if (!found) {
      found = inspectImage(reference, this.options);
      this.seen.set(reference, found);
    }
    return found;
  }
}
