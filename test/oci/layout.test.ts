import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { inspectImage, parseImageReference } from '../../src/oci/index.js';
import { pinLayer } from '../../src/verity/layer.js';
import { hasTool } from '../helpers/tools.js';
import { multiArchImage, singleImage, writeOciLayout, sha256, type TestLayer } from '../helpers/images.js';

async function* once(data: Buffer): AsyncGenerator<Uint8Array> {
  yield data;
}
const pinsOf = (layers: TestLayer[]) => Promise.all(layers.map(async (l) => (await pinLayer(once(l.tar))).rootHash));

describe('parseImageReference', () => {
  it('applies docker.io, library/ and latest defaults', () => {
    expect(parseImageReference('nginx')).toEqual({ registry: 'docker.io', repository: 'library/nginx', tag: 'latest' });
    expect(parseImageReference('user/app:1.2')).toEqual({ registry: 'docker.io', repository: 'user/app', tag: '1.2' });
    expect(parseImageReference('localhost:5000/a/b')).toEqual({ registry: 'localhost:5000', repository: 'a/b', tag: 'latest' });
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseImageReference(`ghcr.io/x/y:t@${digest}`)).toEqual({ registry: 'ghcr.io', repository: 'x/y', tag: 't', digest });
    expect(parseImageReference(`index.docker.io/x@${digest}`)).toEqual({ registry: 'docker.io', repository: 'library/x', digest });
  });
  it('rejects malformed references with a code', () => {
    for (const bad of ['', 'UPPER/case', 'a@sha256:xyz', 'a:b c']) expect(() => parseImageReference(bad)).toThrow(expect.objectContaining({ code: 'image_reference_invalid' }));
  });
});

describe.runIf(hasTool('zstd'))('inspectImage from an OCI layout', () => {
  it('pins gzip, zstd and index images equal to pins of the tars, resolving passwd with whiteouts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'confcom-oci-'));
    try {
      const image = multiArchImage();
      await writeOciLayout(image, join(dir, 'layout'), 'v1');
      const opts = { imageSource: `oci-layout:${join(dir, 'layout')}`, cacheDir: join(dir, 'cache') };
      const info = await inspectImage('example.com/test/app:v1', opts);
      expect(info.digest).toBe(image.topDigest);
      expect(info.canonical).toBe(`example.com/test/app@${image.topDigest}`);
      expect(info.platform).toEqual({ os: 'linux', architecture: 'amd64' });
      const amd = image.layersByPlatform['linux/amd64'];
      expect(info.layers.map((l) => l.rootHash)).toEqual(await pinsOf(amd));
      expect(info.layers.map((l) => l.diffId)).toEqual(amd.map((l) => sha256(l.tar)));
      expect(info.layers.map((l) => l.mediaType.split('+')[1])).toEqual(['gzip', 'zstd', 'gzip']);
      expect(info.passwd).toContain('app:x:1000');
      expect(info.group).toBe('root:x:0:\n');
      expect(info.config).toMatchObject({ user: 'app', entrypoint: ['/app/run'], cmd: ['--serve'], exposedPorts: ['8080/tcp'], labels: { purpose: 'test' } });

      const arm = await inspectImage('example.com/test/app:v1', { ...opts, platform: 'linux/arm64' });
      expect(arm.layers.map((l) => l.rootHash)).toEqual(await pinsOf(image.layersByPlatform['linux/arm64']));
      expect(arm.config.user).toBe('root');
      await expect(inspectImage('example.com/test/app:v1', { ...opts, platform: 'linux/s390x' })).rejects.toMatchObject({ code: 'image_not_found' });
      await expect(inspectImage('example.com/test/app:nope', opts)).rejects.toMatchObject({ code: 'image_not_found' });

      // Warm and offline: answered from the cache alone.
      const offline = await inspectImage('example.com/test/app:v1', { ...opts, offline: true });
      expect(offline.layers).toEqual(info.layers);
      await expect(inspectImage('example.com/test/app:v1', { ...opts, offline: true, cacheDir: join(dir, 'empty') })).rejects.toMatchObject({ code: 'image_offline_miss' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a tampered layer blob and a truncated gzip with their codes, naming the layer', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'confcom-oci-'));
    try {
      const image = singleImage('tamper');
      const layout = join(dir, 'layout');
      await writeOciLayout(image, layout, 'v1');
      const top = image.layersByPlatform['linux/amd64'][2];
      const topDigest = sha256(top.blob);
      const blobPath = join(layout, 'blobs', 'sha256', topDigest.slice(7));
      // Valid gzip, different content: only the digest check can catch it.
      await writeFile(blobPath, gzipSync(Buffer.concat([top.tar, Buffer.alloc(512)])));
      const opts = { imageSource: `oci-layout:${layout}`, cacheDir: join(dir, 'cache') };
      const err = await inspectImage('x.io/a/b:v1', opts).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'blob_digest_mismatch' });
      expect((err as Error).message).toContain(topDigest);
      expect((err as Error).message).toContain('x.io/a/b:v1');

      // A truncated gzip whose digest matches its (truncated) bytes: decompression must fail.
      const truncated = top.blob.subarray(0, top.blob.length - 20);
      const manifestDigest = image.topDigest;
      const manifest = JSON.parse((await readFile(join(layout, 'blobs', 'sha256', manifestDigest.slice(7)))).toString()) as { layers: { digest: string; size: number }[] };
      manifest.layers[2] = { ...manifest.layers[2], digest: sha256(truncated), size: truncated.length };
      await writeFile(join(layout, 'blobs', 'sha256', sha256(truncated).slice(7)), truncated);
      const newManifest = JSON.stringify(manifest);
      await writeFile(join(layout, 'blobs', 'sha256', sha256(newManifest).slice(7)), newManifest);
      await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(newManifest), size: newManifest.length, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }));
      const err2 = await inspectImage('x.io/a/b:v1', opts).catch((e: unknown) => e);
      expect(err2).toMatchObject({ code: 'layer_decompress_failed' });
      expect((err2 as Error).message).toContain(sha256(truncated));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
