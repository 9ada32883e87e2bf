/**
 * Container images for the policy generator: resolve a reference (registry, OCI layout or docker
 * archive), pick the platform, read the config, and pin every layer (dm-verity root hash of
 * `tar || tarfs index`, as Kata's tardev snapshotter mounts it), using a cache keyed by diff ID.
 * The image's /etc/passwd and /etc/group are resolved top layer first, honouring whiteouts.
 */
import { ImageError } from './errors.js';
import { parseImageReference, formatReference, type ImageReference } from './reference.js';
import { MEDIA, type ImageSource } from './source.js';
import { DockerArchiveSource, OciLayoutSource } from './local-sources.js';
import { LayerCache, defaultCacheDir } from './cache.js';
import { ManifestCache } from './manifest-cache.js';
import { checkDigest, sha256Digest, DigestingStream } from './verify.js';
import type { LayerPin } from '../verity/layer.js';
import { resolveAccountFile } from './accounts.js';
import { mapLimit } from './concurrency.js';
import { stderrProgress, type PullProgress } from './progress.js';
import type { HttpPolicy } from './http.js';

export { parseImageReference } from './reference.js';
export { ImageError } from './errors.js';
export { LayerCache } from './cache.js';
export { TerminalProgress, LineProgress, type PullProgress } from './progress.js';
export type { HttpPolicy } from './http.js';

export interface ImageConfig { user?: string; env: string[]; entrypoint?: string[]; cmd?: string[]; workingDir?: string; volumes: string[]; exposedPorts: string[]; labels: Record<string, string>; stopSignal?: string; }
export interface LayerInfo { digest: string; diffId: string; mediaType: string; size: number; rootHash: string; }
export interface ImageInfo { reference: string; canonical: string; digest: string; platform: { os: string; architecture: string; variant?: string }; config: ImageConfig; layers: LayerInfo[]; passwd?: string; group?: string; }
export interface ImageOptions { cacheDir?: string; platform?: string; insecureRegistries?: string[]; dockerConfigFile?: string; pullSecrets?: unknown[]; offline?: boolean; imageSource?: string /* 'oci-layout:DIR' | 'docker-archive:FILE' */; concurrency?: number; progress?: boolean | PullProgress; http?: Partial<HttpPolicy>; signal?: AbortSignal; }

interface Descriptor { mediaType?: string; digest: string; size?: number; platform?: { os?: string; architecture?: string; variant?: string } }
interface Manifest { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] }
interface ConfigBlob {
  os?: string;
  architecture?: string;
  variant?: string;
  config?: { User?: string; Env?: string[] | null; Entrypoint?: string[] | null; Cmd?: string[] | null; WorkingDir?: string; Volumes?: Record<string, unknown> | null; ExposedPorts?: Record<string, unknown> | null; Labels?: Record<string, string> | null; StopSignal?: string };
  rootfs?: { diff_ids?: string[] };
}

export type Platform = ImageInfo['platform'];

export function parsePlatform(text: string): Platform {
  const [os, architecture, variant] = text.split('/');
  if (!os || !architecture) throw new ImageError('image_reference_invalid', `invalid platform '${text}'`, { hint: 'write it as os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8' });
  return { os, architecture, ...(variant ? { variant } : {}) };
}

/**
 * The registry client (HTTP, retries, credential helpers) and the layer pipeline (decompressors,
 * dm-verity, tar) load only when used: with every layer pin cached, or images read from a local
 * source, `policy generate` needs neither, and importing them cost about 15 ms of its start-up.
 */
async function sourceFor(ref: ImageReference, image: string, options: ImageOptions): Promise<ImageSource> {
  const spec = options.imageSource;
  if (spec !== undefined) {
    if (spec.startsWith('oci-layout:')) return new OciLayoutSource(spec.slice('oci-layout:'.length));
    if (spec.startsWith('docker-archive:')) return new DockerArchiveSource(spec.slice('docker-archive:'.length));
    throw new ImageError('image_reference_invalid', `unknown image source '${spec}'`, { hint: "use 'oci-layout:DIR' or 'docker-archive:FILE'" });
  }
  const insecure = (options.insecureRegistries ?? []).includes(ref.registry);
  const [{ CredentialStore }, { RegistrySource }] = await Promise.all([import('./credentials.js'), import('./registry.js')]);
  const credentials = new CredentialStore({ dockerConfigFile: options.dockerConfigFile, pullSecrets: options.pullSecrets });
  return new RegistrySource(ref.registry, image, credentials, { insecure, signal: options.signal, http: options.http });
}

function parseJson<T>(bytes: Buffer, image: string, what: string, digest?: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (cause) {
    throw new ImageError('image_unsupported', `${what} is not valid JSON`, { image, ...(digest ? { digest } : {}), cause, hint: 'the image source served something that is not an OCI/Docker manifest' });
  }
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

function platformMatches(p: Descriptor['platform'], want: Platform): boolean {
  if (!p || p.os !== want.os || p.architecture !== want.architecture) return false;
  return want.variant === undefined || p.variant === want.variant;
}

/** Resolves the reference to one image manifest (choosing from an index by platform). */
async function resolveManifest(source: ImageSource, ref: ImageReference, image: string, platform: Platform): Promise<{ digest: string; manifest: Manifest; manifestDigest: string; manifestBytes: Buffer }> {
  const top = await source.manifest(ref.repository, ref.digest ?? (ref.tag as string));
  const topDigest = top.expectedDigest ?? sha256Digest(top.bytes);
  checkDigest(image, topDigest, top.bytes);
  let manifest = parseJson<Manifest>(top.bytes, image, 'manifest', topDigest);
  let manifestDigest = topDigest;
  let manifestBytes = top.bytes;
  const mediaType = manifest.mediaType ?? top.mediaType;
  if (mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList || Array.isArray(manifest.manifests)) {
    const chosen = (manifest.manifests ?? []).find((d) => platformMatches(d.platform, platform));
    if (!chosen) {
      const offered = (manifest.manifests ?? []).map((d) => [d.platform?.os, d.platform?.architecture, d.platform?.variant].filter(Boolean).join('/')).join(', ');
      throw new ImageError('image_not_found', `no manifest for platform ${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''} (offered: ${offered || 'none'})`, { image, hint: 'choose one of the offered platforms with --platform' });
    }
    const sub = await source.manifest(ref.repository, chosen.digest);
    checkDigest(image, chosen.digest, sub.bytes);
    manifest = parseJson<Manifest>(sub.bytes, image, 'manifest', chosen.digest);
    manifestDigest = chosen.digest;
    manifestBytes = sub.bytes;
  }
  if (!manifest.config || !Array.isArray(manifest.layers)) {
    throw new ImageError('image_unsupported', 'manifest has no config or layers (schema 1 manifests are not supported)', { image, digest: topDigest, hint: 're-push the image with a current tool (OCI or Docker schema 2)' });
  }
  return { digest: topDigest, manifest, manifestDigest, manifestBytes };
}

function toImageConfig(blob: ConfigBlob): ImageConfig {
  const c = blob.config ?? {};
  return {
    ...(c.User ? { user: c.User } : {}),
    env: c.Env ?? [],
    ...(c.Entrypoint ? { entrypoint: c.Entrypoint } : {}),
    ...(c.Cmd ? { cmd: c.Cmd } : {}),
    ...(c.WorkingDir ? { workingDir: c.WorkingDir } : {}),
    volumes: Object.keys(c.Volumes ?? {}).sort(),
    exposedPorts: Object.keys(c.ExposedPorts ?? {}).sort(),
    labels: c.Labels ?? {},
    ...(c.StopSignal ? { stopSignal: c.StopSignal } : {}),
  };
}

/** Downloads, verifies, decompresses and pins one layer (the cache missed). */
/** The blob's bytes, each chunk reported to the progress display as it passes. */
async function* counted(blob: AsyncIterable<Uint8Array>, report: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of blob) {
    report(chunk.length);
    yield chunk;
  }
}

async function pinRemoteLayer(source: ImageSource, repository: string, image: string, layer: Descriptor, diffId: string, progress: PullProgress | undefined): Promise<LayerPin> {
  const [{ compressionOf, decompress }, { pinLayer }] = await Promise.all([import('./decompress.js'), import('../verity/layer.js')]);
  const compression = compressionOf(layer.mediaType ?? '', image, layer.digest);
  const blob = await source.blob(repository, layer.digest);
  const compressed = new DigestingStream(progress ? counted(blob, (n) => progress.layerBytes(image, layer.digest, n)) : blob, image, layer.digest);
  const tar = new DigestingStream(decompress(compressed, compression, image, layer.digest), image, diffId);
  const pin = await pinLayer(tar);
  // Fail closed: a decompressor that stopped early (data after the end of the compressed stream)
  // would otherwise leave the blob's digest unchecked.
  if (!compressed.verified || !tar.verified) {
    throw new ImageError('layer_decompress_failed', 'the compressed layer has data after its end, or was not read to the end', { image, digest: layer.digest, hint: 'the layer blob is malformed; rebuild and re-push the image' });
  }
  return pin;
}

export async function inspectImage(reference: string, options: ImageOptions = {}): Promise<ImageInfo> {
  const ref = parseImageReference(reference);
  const image = formatReference(ref);
  const platform = parsePlatform(options.platform ?? 'linux/amd64');
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const cache = new LayerCache(cacheDir);
  const manifests = new ManifestCache(cacheDir);
  const platformText = [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
  // Offline with a registry image: resolve only from what an online run cached; never build a source
  // (building one is what would open connections).
  const offlineRegistry = options.offline === true && options.imageSource === undefined;
  const source = offlineRegistry ? undefined : await sourceFor(ref, image, options);
  let digest: string;
  let manifest: Manifest;
  let configBytes: Buffer;
  if (source === undefined) {
    const cached = await manifests.get(image, platformText);
    if (!cached) {
      throw new ImageError('image_offline_miss', `no cached manifest for ${image} (${platformText}) and --offline forbids asking the registry`, { image, hint: 'drop --offline for one run to fill the cache (a tag resolves offline to what it named then), or give the image with --image-source oci-layout:DIR' });
    }
    digest = cached.topDigest;
    manifest = parseJson<Manifest>(cached.manifest, image, 'manifest', cached.manifestDigest);
    configBytes = cached.config;
  } else {
    const resolved = await resolveManifest(source, ref, image, platform);
    digest = resolved.digest;
    manifest = resolved.manifest;
    const configDesc = manifest.config as Descriptor;
    configBytes = await readAll(await source.blob(ref.repository, configDesc.digest));
    checkDigest(image, configDesc.digest, configBytes);
    if (options.imageSource === undefined) {
      await manifests.put(image, platformText, { topDigest: digest, manifestDigest: resolved.manifestDigest, manifest: resolved.manifestBytes, configDigest: configDesc.digest, config: configBytes });
    }
  }
  const configDesc = manifest.config as Descriptor;
  const config = parseJson<ConfigBlob>(configBytes, image, 'image config', configDesc.digest);
  const layers = manifest.layers as Descriptor[];
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== layers.length) {
    throw new ImageError('image_unsupported', `config lists ${diffIds.length} diff IDs for ${layers.length} layers`, { image, digest: configDesc.digest, hint: 'the image is malformed; rebuild it' });
  }
  const progress = options.progress === true ? stderrProgress() : options.progress || undefined;
  const pins = await mapLimit(layers, options.concurrency ?? 3, async (layer, i) => {
    options.signal?.throwIfAborted();
    const diffId = diffIds[i];
    const cached = await cache.get(diffId);
    if (cached) return cached;
    if (options.offline) {
      throw new ImageError('image_offline_miss', 'layer is not in the cache and --offline forbids downloading it', { image, digest: layer.digest, hint: 'drop --offline for one run to fill the cache, give the image with --image-source, or import a genpolicy layers-cache.json' });
    }
    if (!source) throw new ImageError('image_offline_miss', 'layer is not in the cache and --offline forbids downloading it', { image, digest: layer.digest, hint: 'drop --offline for one run to fill the cache, or give the image with --image-source' });
    progress?.layerStarted(image, layer.digest, layer.size ?? 0);
    const pin = await pinRemoteLayer(source, ref.repository, image, layer, diffId, progress);
    progress?.layerDone(image, layer.digest);
    await cache.put(diffId, pin);
    return pin;
  });
  const passwd = resolveAccountFile(pins, 'etc/passwd');
  const group = resolveAccountFile(pins, 'etc/group');
  return {
    reference: image,
    canonical: `${ref.registry}/${ref.repository}@${digest}`,
    digest,
    platform: { os: config.os ?? platform.os, architecture: config.architecture ?? platform.architecture, ...((config.variant ?? platform.variant) ? { variant: config.variant ?? platform.variant } : {}) },
    config: toImageConfig(config),
    layers: layers.map((l, i) => ({ digest: l.digest, diffId: diffIds[i], mediaType: l.mediaType ?? '', size: l.size ?? 0, rootHash: pins[i].rootHash })),
    ...(passwd === undefined ? {} : { passwd }),
    ...(group === undefined ? {} : { group }),
  };
}
