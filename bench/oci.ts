/**
 * Pinning a 3-image pod from a local docker-registry: cold (empty cache: download, decompress, tarfs
 * index, dm-verity) and warm (manifests and configs from the registry, pins from the cache).
 * Target: warm < 150 ms for the pod.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inspectImage } from '../src/oci/index.js';
import { imageFromLayers, makeLayer, type TestImage } from '../test/helpers/images.js';
import { startRegistry } from '../test/helpers/registry.js';

function benchImage(i: number): TestImage {
  // Three layers per image, ~20 MiB decompressed in all: compressible text and random payloads.
  const text = Buffer.alloc(8 << 20, `image ${i} line of text\n`);
  return imageFromLayers([
    makeLayer([{ path: 'etc', type: 'dir' }, { path: 'etc/passwd', type: 'file', content: 'root:x:0:0::/root:/bin/sh\n' }, { path: 'usr/share/doc', type: 'file', content: text }], 'gzip'),
    makeLayer([{ path: 'app', type: 'dir' }, { path: 'app/blob', type: 'file', content: randomBytes(6 << 20) }], 'zstd'),
    makeLayer([{ path: 'app/data', type: 'file', content: randomBytes(6 << 20) }], 'gzip'),
  ]);
}

const registry = await startRegistry();
const dir = await mkdtemp(join(tmpdir(), 'confcom-bench-oci-'));
try {
  const refs: string[] = [];
  for (let i = 0; i < 3; i++) {
    await registry.push(`bench/app${i}`, 'v1', benchImage(i));
    refs.push(`${registry.host}/bench/app${i}:v1`);
  }
  const options = { cacheDir: join(dir, 'cache'), insecureRegistries: [registry.host] };
  const pod = async () => {
    const started = performance.now();
    const infos = await Promise.all(refs.map((r) => inspectImage(r, options)));
    return { ms: performance.now() - started, layers: infos.reduce((n, i) => n + i.layers.length, 0) };
  };
  const cold = await pod();
  const warmRuns: number[] = [];
  for (let i = 0; i < 5; i++) warmRuns.push((await pod()).ms);
  warmRuns.sort((a, b) => a - b);
  const warm = warmRuns[Math.floor(warmRuns.length / 2)];
  console.log(`3-image pod, ${cold.layers} layers (~60 MiB decompressed), local docker-registry`);
  console.log(`cold pins: ${cold.ms.toFixed(0)} ms`);
  console.log(`warm pins: ${warm.toFixed(1)} ms median of 5 (target < 150 ms) ${warm < 150 ? 'OK' : 'MISSED'}`);
  console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
} finally {
  await registry.stop();
  await rm(dir, { recursive: true, force: true });
}
