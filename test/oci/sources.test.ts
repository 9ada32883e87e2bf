import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectImage, LayerCache } from '../../src/oci/index.js';
import { resolveAccountFile } from '../../src/oci/accounts.js';
import { pinLayer } from '../../src/verity/layer.js';
import { writeTar } from '../../src/demo/tar-writer.js';
import { hasTool } from '../helpers/tools.js';
import { runConfcom } from '../helpers/cli.js';
import { sha256, singleImage, writeOciLayout, type TestBlob } from '../helpers/images.js';

async function* once(data: Buffer): AsyncGenerator<Uint8Array> {
  yield data;
}

describe.runIf(hasTool('zstd'))('image sources, cache import and CLI', () => {
  let dir: string;
  const image = singleImage('sources');
  const layers = image.layersByPlatform['linux/amd64'];
  let expectedPins: string[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confcom-oci-src-'));
    expectedPins = await Promise.all(layers.map(async (l) => (await pinLayer(once(l.tar))).rootHash));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads a docker save archive (gzip and plain layer members)', async () => {
    const manifest = JSON.parse((image.blobs.get(image.topDigest) as TestBlob).data.toString()) as { config: { digest: string } };
    const config = image.blobs.get(manifest.config.digest) as TestBlob;
    const hex = (d: string) => d.slice(7);
    // docker save writes uncompressed layer.tar members; keep one gzip member to cover both.
    const members = layers.map((l, i) => ({ path: `${hex(sha256(l.tar))}/layer.tar`, content: i === 0 ? l.blob : l.tar }));
    const archive = writeTar([
      { path: 'manifest.json', type: 'file', content: JSON.stringify([{ Config: `${hex(config.digest)}.json`, RepoTags: ['example.com/team/saved:v3'], Layers: members.map((m) => m.path) }]) },
      { path: `${hex(config.digest)}.json`, type: 'file', content: config.data },
      ...members.map((m) => ({ path: m.path, type: 'file' as const, content: m.content })),
    ]);
    await writeFile(join(dir, 'saved.tar'), archive);
    const info = await inspectImage('example.com/team/saved:v3', { imageSource: `docker-archive:${join(dir, 'saved.tar')}`, cacheDir: join(dir, 'c1') });
    expect(info.layers.map((l) => l.rootHash)).toEqual(expectedPins);
    expect(info.layers.map((l) => l.diffId)).toEqual(layers.map((l) => sha256(l.tar)));
    expect(info.passwd).toContain('app:x:1000');
  });

  it("imports genpolicy's layers-cache.json and answers offline from it", async () => {
    const cacheDir = join(dir, 'imported');
    const upstream = layers.map((l, i) => ({ diff_id: sha256(l.tar), verity_hash: expectedPins[i], passwd: i === 2 ? 'root:x:0:0::/:/bin/sh\nimported:x:5:5::/:/bin/sh\n' : '', group: '' }));
    expect(await new LayerCache(cacheDir).importGenpolicy(JSON.stringify(upstream), 'layers-cache.json')).toBe(3);
    await writeOciLayout(image, join(dir, 'layout'), 'v1');
    const info = await inspectImage('example.com/x:v1', { imageSource: `oci-layout:${join(dir, 'layout')}`, cacheDir, offline: true });
    expect(info.layers.map((l) => l.rootHash)).toEqual(expectedPins);
    expect(info.passwd).toContain('imported:x:5');
    await expect(new LayerCache(cacheDir).importGenpolicy('{"not":"a list"}', 'bad.json')).rejects.toMatchObject({ code: 'layers_cache_invalid' });
  });

  it('resolves passwd top layer first, stopping at whiteouts and opaque directories', () => {
    const f = (text: string) => ({ 'etc/passwd': Buffer.from(text) });
    const base = { files: f('base'), whiteouts: [], opaqueDirs: [] };
    expect(resolveAccountFile([base, { files: {}, whiteouts: [], opaqueDirs: [] }], 'etc/passwd')).toBe('base');
    expect(resolveAccountFile([base, { files: {}, whiteouts: ['etc/passwd'], opaqueDirs: [] }], 'etc/passwd')).toBeUndefined();
    expect(resolveAccountFile([base, { files: {}, whiteouts: ['etc'], opaqueDirs: [] }], 'etc/passwd')).toBeUndefined();
    expect(resolveAccountFile([base, { files: {}, whiteouts: [], opaqueDirs: ['etc'] }], 'etc/passwd')).toBeUndefined();
    expect(resolveAccountFile([base, { files: f('top'), whiteouts: [], opaqueDirs: ['etc'] }], 'etc/passwd')).toBe('top');
    expect(resolveAccountFile([base, { files: {}, whiteouts: ['etc/passwd-'], opaqueDirs: ['usr'] }], 'etc/passwd')).toBe('base');
  });

  it('confcom image inspect prints pins as JSON and errors with a code', async () => {
    await writeOciLayout(image, join(dir, 'cli-layout'), 'v1');
    const r = await runConfcom(['--json', 'image', 'inspect', 'example.com/x:v1', '--image-source', `oci-layout:${join(dir, 'cli-layout')}`, '--cache', join(dir, 'cli-cache')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { layers: { rootHash: string }[]; config: { user: string } };
    expect(info.layers.map((l) => l.rootHash)).toEqual(expectedPins);
    expect(info.config.user).toBe('app');
    const missing = await runConfcom(['image', 'inspect', 'example.com/x:nope', '--image-source', `oci-layout:${join(dir, 'cli-layout')}`, '--cache', join(dir, 'cli-cache')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('image_not_found');
  });
});
