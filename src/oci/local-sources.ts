/**
 * Local image sources: an OCI image layout directory (`oci-layout:DIR`) and a `docker save` archive
 * (`docker-archive:FILE`). Both ignore the reference's registry; the tag (or digest) selects the image.
 */
import { createReadStream } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageError } from './errors.js';
import { MEDIA, emptyStream, type FetchedManifest, type ImageSource } from './source.js';
import { sha256Digest } from './verify.js';

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
}

function notFound(origin: string, what: string): ImageError {
  return new ImageError('image_not_found', `${what} not found in ${origin}`, { image: origin, hint: 'check the tag and the --image-source path' });
}

export class OciLayoutSource implements ImageSource {
  readonly origin: string;
  constructor(private readonly dir: string) {
    this.origin = `OCI layout ${dir}`;
  }

  async manifest(_repository: string, tagOrDigest: string): Promise<FetchedManifest> {
    if (tagOrDigest.startsWith('sha256:')) return { bytes: await this.read(tagOrDigest), mediaType: '', expectedDigest: tagOrDigest };
    let index: { manifests?: Descriptor[] };
    try {
      index = JSON.parse(await readFile(join(this.dir, 'index.json'), 'utf8')) as { manifests?: Descriptor[] };
    } catch (cause) {
      throw new ImageError('image_not_found', `cannot read index.json of ${this.origin}`, { hint: 'point --image-source at an OCI image layout directory (with oci-layout and index.json)', cause });
    }
    const manifests = index.manifests ?? [];
    const named = manifests.filter((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tagOrDigest);
    // A layout holding a single unnamed image answers any tag, as skopeo/podman do.
    const chosen = named[0] ?? (manifests.length === 1 && !manifests[0].annotations?.['org.opencontainers.image.ref.name'] ? manifests[0] : undefined);
    if (!chosen) throw notFound(this.origin, `tag '${tagOrDigest}'`);
    return { bytes: await this.read(chosen.digest), mediaType: chosen.mediaType ?? '', expectedDigest: chosen.digest };
  }

  async blob(_repository: string, digest: string): Promise<AsyncIterable<Uint8Array>> {
    const path = this.path(digest);
    await access(path).catch(() => {
      throw notFound(this.origin, `blob ${digest}`);
    });
    return createReadStream(path, { highWaterMark: 1 << 20 });
  }

  private path(digest: string): string {
    const [alg, hex] = digest.split(':');
    if (!/^[a-z0-9]+$/.test(alg) || !/^[a-f0-9]+$/.test(hex ?? '')) throw notFound(this.origin, `blob '${digest}'`);
    return join(this.dir, 'blobs', alg, hex);
  }

  private async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.path(digest));
    } catch {
      throw notFound(this.origin, `blob ${digest}`);
    }
  }
}

/** A `docker save` archive: manifest.json lists Config, RepoTags and Layers (paths inside the tar). */
export class DockerArchiveSource implements ImageSource {
  readonly origin: string;
  private members: Promise<Map<string, { offset: number; size: number }>> | undefined;
  /** Synthesized blob digests (config/layer files) -> archive member paths. */
  private readonly byDigest = new Map<string, string>();

  constructor(private readonly file: string) {
    this.origin = `docker archive ${file}`;
  }

  private index(): Promise<Map<string, { offset: number; size: number }>> {
    this.members ??= (async () => {
      const members = new Map<string, { offset: number; size: number }>();
      // Loaded here: an OCI layout source, far more common, never reads a tar.
      const { TarScanner } = await import('../verity/tar-scanner.js');
      const scanner = new TarScanner({
        onEntry: (entry) => {
          if (entry.type === 'file') members.set(entry.path.toString('utf8').replace(/^\.\//, ''), { offset: entry.dataOffset, size: entry.size });
          return false;
        },
      });
      try {
        for await (const chunk of createReadStream(this.file, { highWaterMark: 1 << 20 })) scanner.push(chunk as Buffer);
        scanner.finish();
      } catch (cause) {
        throw new ImageError('image_not_found', `cannot read ${this.origin}`, { hint: 'point --image-source at a file written by `docker save`', cause });
      }
      return members;
    })();
    return this.members;
  }

  private async member(path: string): Promise<Buffer> {
    const entry = (await this.index()).get(path);
    if (!entry) throw notFound(this.origin, `member '${path}'`);
    const chunks: Buffer[] = [];
    if (entry.size > 0) for await (const c of createReadStream(this.file, { start: entry.offset, end: entry.offset + entry.size - 1 })) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async manifest(repository: string, tagOrDigest: string): Promise<FetchedManifest> {
    const list = JSON.parse((await this.member('manifest.json')).toString('utf8')) as { Config: string; RepoTags?: string[] | null; Layers: string[] }[];
    const wanted = (tags: string[] | null | undefined) => (tags ?? []).some((t) => t.endsWith(`${repository.replace(/^library\//, '')}:${tagOrDigest}`) || t.endsWith(`/${repository}:${tagOrDigest}`));
    const chosen = list.find((m) => wanted(m.RepoTags)) ?? (list.length === 1 ? list[0] : undefined);
    if (!chosen) throw notFound(this.origin, `image '${repository}:${tagOrDigest}'`);
    // Synthesize an OCI manifest whose descriptors name archive members by their digests.
    const describe = async (path: string, mediaType: string): Promise<Descriptor> => {
      const data = await this.member(path);
      const digest = sha256Digest(data);
      this.byDigest.set(digest, path);
      return { mediaType: data[0] === 0x1f && data[1] === 0x8b ? `${mediaType}+gzip` : mediaType, digest, size: data.length };
    };
    const config = await describe(chosen.Config, 'application/vnd.oci.image.config.v1+json');
    config.mediaType = 'application/vnd.oci.image.config.v1+json';
    const layers = [];
    for (const layer of chosen.Layers) layers.push(await describe(layer, 'application/vnd.oci.image.layer.v1.tar'));
    return { bytes: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers })), mediaType: MEDIA.ociManifest };
  }

  async blob(_repository: string, digest: string): Promise<AsyncIterable<Uint8Array>> {
    const path = this.byDigest.get(digest);
    if (path === undefined) throw notFound(this.origin, `blob ${digest}`);
    const entry = (await this.index()).get(path) as { offset: number; size: number };
    if (entry.size === 0) return emptyStream();
    return createReadStream(this.file, { start: entry.offset, end: entry.offset + entry.size - 1, highWaterMark: 1 << 20 });
  }
}
