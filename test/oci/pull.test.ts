/**
 * Pulls through a flaky proxy in front of the real registry (503s and connection resets are retried),
 * the hint for an unreachable registry, and the progress display, through the real binary.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectImage, TerminalProgress } from '../../src/oci/index.js';
import { runConfcom } from '../helpers/cli.js';
import { singleImage } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { hasTool } from '../helpers/tools.js';

const enabled = hasTool('docker-registry') && hasTool('zstd');

describe.runIf(enabled)('registry pulls', () => {
  let registry: TestRegistry;
  let proxy: Server;
  let proxyHost: string;
  let dir: string;
  const failures: string[] = [];
  const image = singleImage('flaky');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confcom-pull-'));
    registry = await startRegistry();
    await registry.push('team/app', 'v1', image);
    const seen = new Set<string>();
    // The first request for each path fails: manifests with 503, blobs with a reset connection.
    proxy = createServer((req, res) => {
      const path = req.url ?? '';
      if (path !== '/v2/' && !seen.has(path)) {
        seen.add(path);
        failures.push(path);
        if (path.includes('/blobs/')) return req.socket.destroy();
        res.statusCode = 503;
        return res.end('try later');
      }
      const [host, port] = registry.host.split(':');
      const upstream = request({ host, port, path, method: req.method, headers: { ...req.headers, host: registry.host } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyHost = `127.0.0.1:${(proxy.address() as { port: number }).port}`;
  }, 30000);
  afterAll(async () => {
    proxy?.closeAllConnections();
    proxy?.close();
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('retries 503s and resets and pins the image as the registry serves it', async () => {
    const direct = await inspectImage(`${registry.host}/team/app:v1`, { cacheDir: join(dir, 'c1'), insecureRegistries: [registry.host] });
    const flaky = await inspectImage(`${proxyHost}/team/app:v1`, { cacheDir: join(dir, 'c2'), insecureRegistries: [proxyHost], http: { minBackoffMs: 10 } });
    expect(flaky.digest).toBe(image.topDigest);
    expect(flaky.layers.map((l) => l.rootHash)).toEqual(direct.layers.map((l) => l.rootHash));
    expect(failures.some((p) => p.includes('/manifests/'))).toBe(true);
    expect(failures.filter((p) => p.includes('/blobs/')).length).toBeGreaterThanOrEqual(2); // config and layers
  });

  it('prints a line per layer off a terminal, and nothing with --quiet', async () => {
    const args = ['image', 'inspect', `${registry.host}/team/app:v1`, '--insecure-registry', registry.host];
    const loud = await runConfcom([...args, '--cache', join(dir, 'c3')]);
    expect(loud.code, loud.stderr).toBe(0);
    const layers = image.layersByPlatform['linux/amd64'].length;
    expect(loud.stderr.match(/^pulling \S+ layer sha256:[0-9a-f]{64}/gm)).toHaveLength(layers);
    expect(loud.stderr.match(/: pinned \d+(\.\d)? [KMG]?B \/ \d+(\.\d)? [KMG]?B \S+ [KMG]?B\/s$/gm)).toHaveLength(layers);
    const quiet = await runConfcom([...args, '--cache', join(dir, 'c4'), '--quiet']);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
  });
});

describe('an unreachable registry', () => {
  it('fails with a hint naming --offline and --image-source', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(closed.address() as { port: number }).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const dir = await mkdtemp(join(tmpdir(), 'confcom-unreach-'));
    try {
      const r = await runConfcom(['image', 'inspect', `${host}/team/app:v1`, '--insecure-registry', host, '--cache', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error\[registry_error\]: cannot reach registry 127\.0\.0\.1:\d+: .*ECONNREFUSED/m);
      expect(r.stderr).toMatch(/hint: .*--offline.*--image-source oci-layout:DIR/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('TerminalProgress', () => {
  it('redraws one line per layer in place, with bytes, size and rate', () => {
    let out = '';
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => ((out += chunk.toString()), done()) });
    const progress = new TerminalProgress(sink, 1_000_000);
    progress.layerStarted('app:v1', 'sha256:' + 'a'.repeat(64), 2_000_000);
    progress.layerStarted('app:v1', 'sha256:' + 'b'.repeat(64), 500);
    progress.layerBytes('app:v1', 'sha256:' + 'a'.repeat(64), 1_500_000);
    progress.layerDone('app:v1', 'sha256:' + 'b'.repeat(64));
    progress.layerDone('app:v1', 'sha256:' + 'a'.repeat(64));
    const frames = out.split('\u001b[2A');
    expect(frames).toHaveLength(2); // the second draw moved up over the first two lines
    // eslint-disable-next-line no-control-regex -- the ANSI escapes are what is tested
    expect(frames[1]).toMatch(/^\u001b\[2Kapp:v1 aaaaaaaaaaaa: pinned 1\.5 MB \/ 2\.0 MB \S+ [KMG]?B\/s\n\u001b\[2Kapp:v1 bbbbbbbbbbbb: pinned 0 B \/ 500 B /);
  });
});
