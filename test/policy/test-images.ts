/**
 * The images the policy tests and examples use, built from small deterministic layers and written as
 * one OCI image layout (each image under its own tag; the layout source ignores the registry part of
 * a reference, so `registry.k8s.io/pause:3.9` resolves to tag `3.9`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TarEntry } from '../../src/demo/tar-writer.js';
import { makeLayer, sha256, type TestBlob, type TestImage, type TestLayer } from '../helpers/images.js';

export interface ImageSpec {
  /** The tag in the layout, which is also the tag of the references in the examples. */
  tag: string;
  config: { User?: string; Env?: string[]; Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string; Volumes?: Record<string, object> };
  layers: TarEntry[][];
}

const passwd = (extra = '') => `root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n${extra}`;
const group = (extra = '') => `root:x:0:\nwheel:x:10:root\nnogroup:x:65534:\n${extra}`;
const base = (marker: string): TarEntry[] => [
  { path: 'bin', type: 'dir' },
  { path: 'bin/sh', type: 'file', content: `#!sh ${marker}\n`, mode: 0o755 },
  { path: 'etc', type: 'dir' },
  { path: 'etc/passwd', type: 'file', content: passwd() },
  { path: 'etc/group', type: 'file', content: group() },
];

/** Every image the examples reference. */
export const EXAMPLE_IMAGES: ImageSpec[] = [
  { tag: '3.9', config: { User: '65535:65535', Entrypoint: ['/pause'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] }, layers: [[{ path: 'pause', type: 'file', content: 'pause binary', mode: 0o755 }]] },
  {
    tag: 'web-1.0',
    config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'WEB_ROOT=/srv/www'], Entrypoint: ['/usr/bin/web'], Cmd: ['--port', '8080'], WorkingDir: '/srv', Volumes: { '/var/cache/web': {} } },
    layers: [base('web'), [{ path: 'usr', type: 'dir' }, { path: 'usr/bin', type: 'dir' }, { path: 'usr/bin/web', type: 'file', content: 'web server', mode: 0o755 }]],
  },
  {
    tag: 'worker-1.0',
    config: { User: 'worker', Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/sh', '-c', 'work'] },
    layers: [base('worker'), [{ path: 'etc', type: 'dir' }, { path: 'etc/passwd', type: 'file', content: passwd('worker:x:1001:1001::/home/worker:/bin/sh\n') }, { path: 'etc/group', type: 'file', content: group('worker:x:1001:\nstaff:x:50:worker\n') }]],
  },
  { tag: 'tools-1.0', config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/sh'] }, layers: [base('tools')] },
  { tag: 'proxy-1.0', config: { User: '1337:1337', Env: ['PATH=/usr/bin:/bin'], Entrypoint: ['/proxy'], Cmd: ['run'] }, layers: [base('proxy'), [{ path: 'proxy', type: 'file', content: 'proxy', mode: 0o755 }]] },
];

function configBlob(spec: ImageSpec, layers: TestLayer[]): Buffer {
  return Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: spec.config, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l.tar)) } }));
}

/** One image as blobs (layers, config, manifest), in the form test/helpers/registry.ts pushes. */
export function buildImage(spec: ImageSpec): TestImage {
  const blobs = new Map<string, TestBlob>();
  const put = (data: Buffer, mediaType: string) => {
    const digest = sha256(data);
    blobs.set(digest, { digest, data, mediaType });
    return { mediaType, digest, size: data.length };
  };
  const layers = spec.layers.map((entries) => makeLayer(entries, 'gzip'));
  const layerDescs = layers.map((l) => put(l.blob, l.mediaType));
  const config = put(configBlob(spec, layers), 'application/vnd.oci.image.config.v1+json');
  const manifest = put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: layerDescs })), 'application/vnd.oci.image.manifest.v1+json');
  return { blobs, topDigest: manifest.digest, topMediaType: manifest.mediaType, layersByPlatform: { 'linux/amd64': layers } };
}

/** Writes every image into one OCI layout directory, each under its tag. */
export async function writeExampleLayout(dir: string, specs: readonly ImageSpec[] = EXAMPLE_IMAGES): Promise<void> {
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  const manifests = [];
  for (const spec of specs) {
    const image = buildImage(spec);
    for (const blob of image.blobs.values()) await writeFile(join(blobDir, blob.digest.slice(7)), blob.data);
    const top = image.blobs.get(image.topDigest) as TestBlob;
    manifests.push({ mediaType: image.topMediaType, digest: image.topDigest, size: top.data.length, annotations: { 'org.opencontainers.image.ref.name': spec.tag } });
  }
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
}
