/**
 * A real OCI registry for tests: Debian's `docker-registry` (CNCF distribution 2.8) on a free
 * 127.0.0.1 port with a temporary filesystem root, optionally behind htpasswd (bcrypt) Basic auth.
 * `push()` uploads a test image (blobs, then manifests by digest, then the tag) with the v2 API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import type { TestImage } from './images.js';
import { freePort } from './ports.js';

export interface TestRegistry {
  /** host:port, e.g. 127.0.0.1:40123 */
  host: string;
  /** The registry's storage root (tests corrupt blobs here). */
  dataDir: string;
  push(repository: string, tag: string, image: TestImage): Promise<void>;
  stop(): Promise<void>;
}

export async function startRegistry(options: { user?: { name: string; password: string } } = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'confcom-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let auth = '';
  if (options.user) {
    await writeFile(join(dir, 'htpasswd'), `${options.user.name}:${bcrypt.hashSync(options.user.password, 4)}\n`);
    auth = `auth:\n  htpasswd:\n    realm: confcom-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  const config = `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: ${host}\n${auth}`;
  await writeFile(join(dir, 'config.yml'), config);
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const authHeader: Record<string, string> = options.user ? { authorization: `Basic ${Buffer.from(`${options.user.name}:${options.user.password}`).toString('base64')}` } : {};
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://${host}/v2/`, { headers: authHeader }).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (i > 100 || child.exitCode !== null) {
      child.kill();
      throw new Error(`docker-registry did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const request = async (method: string, url: string, body?: Buffer, headers: Record<string, string> = {}) => {
    const response = await fetch(url.startsWith('http') ? url : `http://${host}${url}`, { method, body, headers: { ...authHeader, ...headers } });
    if (!response.ok) throw new Error(`${method} ${url}: HTTP ${response.status} ${await response.text()}`);
    return response;
  };

  return {
    host,
    dataDir: join(dir, 'data'),
    async push(repository, tag, image) {
      const manifests = [...image.blobs.values()].filter((b) => b.mediaType.includes('manifest') || b.mediaType.includes('index'));
      for (const blob of image.blobs.values()) {
        if (manifests.includes(blob)) continue;
        const start = await request('POST', `/v2/${repository}/blobs/uploads/`);
        const location = new URL(start.headers.get('location') as string, `http://${host}`);
        location.searchParams.set('digest', blob.digest);
        await request('PUT', location.toString(), blob.data, { 'content-type': 'application/octet-stream' });
      }
      for (const m of manifests) if (m.digest !== image.topDigest) await request('PUT', `/v2/${repository}/manifests/${m.digest}`, m.data, { 'content-type': m.mediaType });
      const top = image.blobs.get(image.topDigest);
      if (!top) throw new Error('image without a top manifest');
      await request('PUT', `/v2/${repository}/manifests/${tag}`, top.data, { 'content-type': top.mediaType });
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
