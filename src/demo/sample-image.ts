/**
 * The demo's built-in image, written as an OCI image layout directory so the whole chain runs offline:
 * two gzip layers (a base with /etc/passwd and /etc/group, and an app layer), and a config with
 * Entrypoint/Cmd/Env/User like a real image.
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

export interface SampleImage {
  reference: string;
  layoutDir: string;
  /** The decompressed layer tars (bottom to top), for cross-checking pins. */
  layerTars: Buffer[];
}

/** Writes the sample image into `dir` as an OCI layout (tag `1.0`). Deterministic: same bytes every time. */
export async function writeSampleImage(dir: string): Promise<SampleImage> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const putBlob = async (data: Buffer | string) => {
    const digest = sha256(data);
    await writeFile(join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
  };
  const layerTars = [writeTar(BASE_LAYER), writeTar(APP_LAYER)];
  const layers = [];
  for (const tar of layerTars) {
    const blob = await putBlob(gzipSync(tar, { level: 9 }));
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...blob });
  }
  const config = {
    architecture: 'amd64',
    os: 'linux',
    config: {
      User: 'app',
      Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'APP_MODE=demo'],
      Entrypoint: ['/app/server'],
      Cmd: ['--port', '8080'],
      WorkingDir: '/app',
    },
    rootfs: { type: 'layers', diff_ids: layerTars.map((t) => `sha256:${sha256(t)}`) },
    history: [{ created_by: 'confcom demo base' }, { created_by: 'confcom demo app' }],
  };
  const configBlob = await putBlob(JSON.stringify(config));
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
    layers,
  });
  const manifestBlob = await putBlob(manifest);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifestBlob, annotations: { 'org.opencontainers.image.ref.name': '1.0' } }],
    }),
  );
  return { reference: SAMPLE_IMAGE_REF, layoutDir: dir, layerTars };
}
