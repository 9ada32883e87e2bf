/**
 * The demo's built-in image, written as an OCI image layout directory so the whole chain runs offline:
 * two gzip layers (a base with /etc/passwd and /etc/group, and an app layer), and a config with
 * Entrypoint/Cmd/Env/User like a real image; plus a one-layer pause image for the pod sandbox.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeTar, type TarEntry } from './tar-writer.js';

export const SAMPLE_IMAGE_REF = 'confcom.local/demo/app:1.0';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

const BASE_LAYER: TarEntry[] = [
  { path: 'bin', type: 'dir' },
  { path: 'bin/sh', type: 'file', content: '#!demo shell\n', mode: 0o755 },
  { path: 'etc', type: 'dir' },
  { path: 'etc/passwd', type: 'file', content: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' },
  { path: 'etc/group', type: 'file', content: 'root:x:0:\napp:x:1000:\n' },
  { path: 'home', type: 'dir' },
  { path: 'home/app', type: 'dir' },
];

const APP_LAYER: TarEntry[] = [
  { path: 'app', type: 'dir' },
  { path: 'app/server', type: 'file', content: '#!/bin/sh\necho "confidential hello"\n', mode: 0o755 },
  { path: 'app/config.json', type: 'file', content: '{"listen": ":8080"}\n' },
  { path: 'usr', type: 'dir' },
  { path: 'usr/bin', type: 'dir' },
  { path: 'usr/bin/server', type: 'symlink', linkTarget: '/app/server' },
];

/**
 * The sandbox (pause) image every Kata pod also runs, under the tag of the generator's default
 * `pause_image` (an OCI layout is looked up by tag), so policy generation needs no registry.
 */
const PAUSE_TAG = '3.9';
const PAUSE_LAYER: TarEntry[] = [{ path: 'pause', type: 'file', content: '#!demo pause\n', mode: 0o755 }];

export interface SampleImage {
  reference: string;
  layoutDir: string;
  /** The decompressed layer tars of the app image (bottom to top), for cross-checking pins. */
  layerTars: Buffer[];
}

interface ImageSpec {
  tag: string;
  config: Record<string, unknown>;
  layers: Buffer[];
  history: string[];
}

type PutBlob = (data: Buffer | string) => Promise<{ digest: string; size: number }>;

/** Writes one image's blobs; returns its manifest descriptor for index.json. */
async function writeImage(putBlob: PutBlob, spec: ImageSpec): Promise<Record<string, unknown>> {
  const layers = [];
  for (const tar of spec.layers) {
    const blob = await putBlob(gzipSync(tar, { level: 9 }));
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...blob });
  }
  const config = {
    architecture: 'amd64',
    os: 'linux',
    config: spec.config,
    rootfs: { type: 'layers', diff_ids: spec.layers.map((t) => `sha256:${sha256(t)}`) },
    history: spec.history.map((created_by) => ({ created_by })),
  };
  const configBlob = await putBlob(JSON.stringify(config));
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
    layers,
  });
  const manifestBlob = await putBlob(manifest);
  return { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifestBlob, annotations: { 'org.opencontainers.image.ref.name': spec.tag } };
}

/**
 * Writes the sample image (tag `1.0`) and the pause image (tag `3.9`) into `dir` as an OCI layout.
 * Deterministic: same bytes every time.
 */
export async function writeSampleImage(dir: string): Promise<SampleImage> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const putBlob: PutBlob = async (data) => {
    const digest = sha256(data);
    await writeFile(join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
  };
  const layerTars = [writeTar(BASE_LAYER), writeTar(APP_LAYER)];
  const app = await writeImage(putBlob, {
    tag: '1.0',
    config: {
      User: 'app',
      Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'APP_MODE=demo'],
      Entrypoint: ['/app/server'],
      Cmd: ['--port', '8080'],
      WorkingDir: '/app',
    },
    layers: layerTars,
    history: ['confcom demo base', 'confcom demo app'],
  });
  const pause = await writeImage(putBlob, {
    tag: PAUSE_TAG,
    config: { User: '65535:65535', Entrypoint: ['/pause'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    layers: [writeTar(PAUSE_LAYER)],
    history: ['confcom demo pause'],
  });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [app, pause] }));
  return { reference: SAMPLE_IMAGE_REF, layoutDir: dir, layerTars };
}
