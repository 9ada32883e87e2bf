/**
 * Test images: layer tars built with the demo's ustar writer, compressed with gzip (node:zlib) or zstd
 * (the `zstd` tool), written as blobs with their manifests and configs. The same blobs are written to
 * an OCI layout or pushed to a registry (`registry.ts`), so pins from either path can be compared
 * with pins computed directly from the tars.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeTar, type TarEntry } from '../../src/demo/tar-writer.js';

export const sha256 = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export type LayerCompression = 'gzip' | 'zstd' | 'none';

export interface TestLayer {
  tar: Buffer;
  blob: Buffer;
  mediaType: string;
}

export interface TestBlob {
  digest: string;
  data: Buffer;
  mediaType: string;
}

export interface TestImage {
  /** Every blob (layers, configs, manifests, index) by digest. */
  blobs: Map<string, TestBlob>;
  /** Digest of what the tag points at (a manifest, or an index for multi-arch images). */
  topDigest: string;
  topMediaType: string;
  /** Per platform: the layers bottom to top. */
  layersByPlatform: Record<string, TestLayer[]>;
}

export function makeLayer(entries: readonly TarEntry[], compression: LayerCompression): TestLayer {
  const tar = writeTar(entries);
  if (compression === 'gzip') return { tar, blob: gzipSync(tar), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };
  if (compression === 'none') return { tar, blob: tar, mediaType: 'application/vnd.oci.image.layer.v1.tar' };
  const z = spawnSync('zstd', ['-q', '-c', '-3'], { input: tar, maxBuffer: 1 << 30 });
  if (z.status !== 0) throw new Error(`zstd failed: ${z.stderr.toString()}`);
  return { tar, blob: z.stdout, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' };
}

const put = (blobs: Map<string, TestBlob>, data: Buffer | string, mediaType: string) => {
  const buffer = Buffer.from(data);
  const digest = sha256(buffer);
  blobs.set(digest, { digest, data: buffer, mediaType });
  return { mediaType, digest, size: buffer.length };
};

function addManifest(blobs: Map<string, TestBlob>, layers: TestLayer[], platform: { os: string; architecture: string }, user = 'app') {
  const layerDescs = layers.map((l) => put(blobs, l.blob, l.mediaType));
  const config = {
    ...platform,
    config: { User: user, Env: ['PATH=/usr/bin:/bin'], Entrypoint: ['/app/run'], Cmd: ['--serve'], WorkingDir: '/app', ExposedPorts: { '8080/tcp': {} }, Labels: { purpose: 'test' } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l.tar)) },
  };
  const configDesc = put(blobs, JSON.stringify(config), 'application/vnd.oci.image.config.v1+json');
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: configDesc, layers: layerDescs };
  return put(blobs, JSON.stringify(manifest), 'application/vnd.oci.image.manifest.v1+json');
}

/** Base layer with accounts; a middle zstd layer; a top layer that whites out and replaces files. */
export function standardLayers(marker: string): TestLayer[] {
  return [
    makeLayer(
      [
        { path: 'etc', type: 'dir' },
        { path: 'etc/passwd', type: 'file', content: `root:x:0:0:root:/root:/bin/sh\nbase:x:1:1::/:/bin/false\n` },
        { path: 'etc/group', type: 'file', content: 'root:x:0:\n' },
        { path: 'tmp', type: 'dir' },
        { path: 'tmp/old', type: 'file', content: 'old' },
      ],
      'gzip',
    ),
    makeLayer(
      [
        { path: 'app', type: 'dir' },
        { path: 'app/run', type: 'file', content: `#!/bin/sh\necho ${marker}\n`, mode: 0o755 },
        { path: 'app/big', type: 'file', content: Buffer.alloc(70000, marker) },
      ],
      'zstd',
    ),
    makeLayer(
      [
        { path: 'etc', type: 'dir' },
        { path: 'etc/passwd', type: 'file', content: `root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n` },
        { path: 'tmp', type: 'dir' },
        { path: 'tmp/.wh.old', type: 'file', content: '' },
      ],
      'gzip',
    ),
  ];
}

/** A single-platform image from the given layers. */
export function imageFromLayers(layers: TestLayer[]): TestImage {
  const blobs = new Map<string, TestBlob>();
  const top = addManifest(blobs, layers, { os: 'linux', architecture: 'amd64' });
  return { blobs, topDigest: top.digest, topMediaType: top.mediaType, layersByPlatform: { 'linux/amd64': layers } };
}

/** A single-platform image with the standard layers. */
export function singleImage(marker = 'one'): TestImage {
  return imageFromLayers(standardLayers(marker));
}

/** A multi-arch index: linux/amd64 (standard layers) and linux/arm64 (one uncompressed layer). */
export function multiArchImage(): TestImage {
  const blobs = new Map<string, TestBlob>();
  const amd = standardLayers('amd64');
  const arm = [makeLayer([{ path: 'etc', type: 'dir' }, { path: 'etc/passwd', type: 'file', content: 'root:x:0:0::/:/bin/sh\n' }], 'none')];
  const m1 = addManifest(blobs, amd, { os: 'linux', architecture: 'amd64' });
  const m2 = addManifest(blobs, arm, { os: 'linux', architecture: 'arm64' }, 'root');
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { ...m2, platform: { os: 'linux', architecture: 'arm64' } },
      { ...m1, platform: { os: 'linux', architecture: 'amd64' } },
    ],
  };
  const top = put(blobs, JSON.stringify(index), 'application/vnd.oci.image.index.v1+json');
  return { blobs, topDigest: top.digest, topMediaType: top.mediaType, layersByPlatform: { 'linux/amd64': amd, 'linux/arm64': arm } };
}

/** Writes the image as an OCI layout directory with `tag` naming it. */
export async function writeOciLayout(image: TestImage, dir: string, tag: string): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const blob of image.blobs.values()) await writeFile(join(dir, 'blobs', 'sha256', blob.digest.slice(7)), blob.data);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const size = (image.blobs.get(image.topDigest) as TestBlob).data.length;
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: image.topMediaType, digest: image.topDigest, size, annotations: { 'org.opencontainers.image.ref.name': tag } }] }),
  );
}
