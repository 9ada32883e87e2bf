/**
 * Where image bytes come from. Every source answers the same two questions: "the manifest (or index)
 * this reference names" and "the blob with this digest, as a stream". Digest verification happens
 * in one place (`verify.ts`) for all sources, so a local layout is trusted no more than a registry.
 */
export interface FetchedManifest {
  bytes: Buffer;
  /** Media type as the source reports it (Content-Type, descriptor); may be empty. */
  mediaType: string;
  /** The digest the bytes must have, when the source knows it up front (by-digest reference or descriptor). */
  expectedDigest?: string;
}

export interface ImageSource {
  /** Human-readable origin, for error messages (e.g. `registry 127.0.0.1:5000`). */
  readonly origin: string;
  /** `tagOrDigest` is a tag or a `sha256:` digest. */
  manifest(repository: string, tagOrDigest: string): Promise<FetchedManifest>;
  blob(repository: string, digest: string): Promise<AsyncIterable<Uint8Array>>;
}

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;
export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest].join(', ');

/** A stream with no bytes (an empty blob). */
export async function* emptyStream(): AsyncGenerator<Uint8Array> {
  // Nothing to yield.
}
