import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { inspectImage } from '../../src/oci/index.js';
import { pinLayer } from '../../src/verity/layer.js';
import { hasTool } from '../helpers/tools.js';
import { imageFromLayers, makeLayer, multiArchImage, sha256, singleImage, type TestLayer } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

async function* once(data: Buffer): AsyncGenerator<Uint8Array> {
  yield data;
}
const pinsOf = (layers: TestLayer[]) => Promise.all(layers.map(async (l) => (await pinLayer(once(l.tar))).rootHash));

const enabled = hasTool('docker-registry') && hasTool('zstd');

describe.runIf(enabled)('inspectImage against a real registry', () => {
  let open: TestRegistry;
  let locked: TestRegistry;
  let dir: string;
  const single = singleImage('registry');
  const multi = multiArchImage();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confcom-oci-reg-'));
    [open, locked] = await Promise.all([startRegistry(), startRegistry({ user: { name: 'alice', password: 's3cret-pw' } })]);
    await open.push('team/app', 'v1', single);
    await open.push('team/multi', 'v2', multi);
    await locked.push('private/app', 'v1', single);
  }, 30000);
  afterAll(async () => {
    await Promise.all([open?.stop(), locked?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  const opts = (extra: Record<string, unknown> = {}) => ({ cacheDir: join(dir, `cache-${Math.random()}`), insecureRegistries: [open.host, locked.host], ...extra });

  it('pins a gzip+zstd image and a multi-arch index equal to pins of the local tars', async () => {
    const info = await inspectImage(`${open.host}/team/app:v1`, opts());
    expect(info.digest).toBe(single.topDigest);
    expect(info.layers.map((l) => l.rootHash)).toEqual(await pinsOf(single.layersByPlatform['linux/amd64']));
    expect(info.passwd).toContain('app:x:1000');
    const arm = await inspectImage(`${open.host}/team/multi:v2`, opts({ platform: 'linux/arm64' }));
    expect(arm.layers.map((l) => l.rootHash)).toEqual(await pinsOf(multi.layersByPlatform['linux/arm64']));
    const byDigest = await inspectImage(`${open.host}/team/multi@${multi.topDigest}`, opts());
    expect(byDigest.layers.map((l) => l.rootHash)).toEqual(await pinsOf(multi.layersByPlatform['linux/amd64']));
  });

  it('reports a missing tag, plain HTTP without --insecure-registry, and refused credentials', async () => {
    await expect(inspectImage(`${open.host}/team/app:missing`, opts())).rejects.toMatchObject({ code: 'image_not_found' });
    await expect(inspectImage(`${open.host}/team/app:v1`, opts({ insecureRegistries: [] }))).rejects.toMatchObject({ code: 'registry_error' });
    const denied = await inspectImage(`${locked.host}/private/app:v1`, opts()).catch((e: unknown) => e);
    expect(denied).toMatchObject({ code: 'registry_unauthorized' });
    expect((denied as { hint: string }).hint).toContain('docker login');
    const badConfig = join(dir, 'bad.json');
    await writeFile(badConfig, JSON.stringify({ auths: { [locked.host]: { auth: Buffer.from('alice:wrong').toString('base64') } } }));
    const wrong = await inspectImage(`${locked.host}/private/app:v1`, opts({ dockerConfigFile: badConfig })).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: 'registry_unauthorized' });
    expect(JSON.stringify(wrong) + String(wrong)).not.toContain('wrong');
  });

  it('asks Docker credential helpers (credHelpers before credsStore before auths) and names a missing or broken one', async () => {
    const bin = join(dir, 'helper-bin');
    await mkdir(bin, { recursive: true });
    // A fake helper speaking the protocol: the server URL on stdin, JSON on stdout, "not found" as exit 1.
    const script = `#!/bin/sh\nread url\nif [ "$url" = "${locked.host}" ]; then echo '{"ServerURL":"'$url'","Username":"alice","Secret":"s3cret-pw"}'; else echo 'credentials not found in native keychain'; exit 1; fi\n`;
    await writeFile(join(bin, 'docker-credential-fake'), script, { mode: 0o755 });
    await writeFile(join(bin, 'docker-credential-broken'), '#!/bin/sh\necho not-json\n', { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const wrongAuths = { [locked.host]: { auth: Buffer.from('alice:wrong').toString('base64') } };
      const config = async (doc: unknown) => {
        const file = join(dir, `helper-config-${Math.random()}.json`);
        await writeFile(file, JSON.stringify(doc));
        return file;
      };
      const viaHelper = await inspectImage(`${locked.host}/private/app:v1`, opts({ dockerConfigFile: await config({ auths: wrongAuths, credHelpers: { [locked.host]: 'fake' } }) }));
      expect(viaHelper.digest).toBe(single.topDigest);
      const viaStore = await inspectImage(`${locked.host}/private/app:v1`, opts({ dockerConfigFile: await config({ auths: wrongAuths, credsStore: 'fake' }) }));
      expect(viaStore.digest).toBe(single.topDigest);
      const missing = await inspectImage(`${locked.host}/private/app:v1`, opts({ dockerConfigFile: await config({ credHelpers: { [locked.host]: 'nowhere' } }) })).catch((e: unknown) => e);
      expect(missing).toMatchObject({ code: 'credential_helper_missing' });
      expect(String(missing)).toContain('docker-credential-nowhere');
      const broken = await inspectImage(`${locked.host}/private/app:v1`, opts({ dockerConfigFile: await config({ credsStore: 'broken' }) })).catch((e: unknown) => e);
      expect(broken).toMatchObject({ code: 'credential_helper_failed' });
    } finally {
      process.env.PATH = path;
    }
  });

  it('authenticates with a Docker config file and with a dockerconfigjson pull secret', async () => {
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ auths: { [`http://${locked.host}`]: { auth: Buffer.from('alice:s3cret-pw').toString('base64') } } }));
    const viaConfig = await inspectImage(`${locked.host}/private/app:v1`, opts({ dockerConfigFile: config }));
    expect(viaConfig.digest).toBe(single.topDigest);
    const secret = { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { [locked.host]: { username: 'alice', password: 's3cret-pw' } } })).toString('base64') } };
    const viaSecret = await inspectImage(`${locked.host}/private/app:v1`, opts({ pullSecrets: [secret] }));
    expect(viaSecret.layers).toEqual(viaConfig.layers);
  });

  it('rejects a blob the registry serves with the wrong content, and a truncated gzip layer', async () => {
    // A layer no other test image shares (registry storage is content-addressed across repositories).
    const layer = makeLayer([{ path: 'victim', type: 'file', content: 'only here' }], 'gzip');
    await open.push('team/corrupt', 'v1', imageFromLayers([layer]));
    const digest = sha256(layer.blob);
    await writeFile(join(open.dataDir, 'docker/registry/v2/blobs/sha256', digest.slice(7, 9), digest.slice(7), 'data'), gzipSync(Buffer.concat([layer.tar, Buffer.alloc(1024)])));
    const err = await inspectImage(`${open.host}/team/corrupt:v1`, opts()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'blob_digest_mismatch' });
    expect(String(err)).toContain(digest);

    const good = makeLayer([{ path: 'data', type: 'file', content: Buffer.alloc(50000, 7) }], 'gzip');
    const truncated = { ...good, blob: good.blob.subarray(0, good.blob.length - 30) };
    await open.push('team/truncated', 'v1', imageFromLayers([truncated]));
    const err2 = await inspectImage(`${open.host}/team/truncated:v1`, opts()).catch((e: unknown) => e);
    expect(err2).toMatchObject({ code: 'layer_decompress_failed' });
    expect(String(err2)).toContain(sha256(truncated.blob));
  });

  it('gets a Bearer token from the challenge realm with the configured credentials', async () => {
    // A token-auth front for the open registry: /v2/* needs "Bearer tok-1", issued by /token for alice.
    let tokenRequests = 0;
    const server: Server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/token') {
        tokenRequests++;
        const ok = req.headers.authorization === `Basic ${Buffer.from('alice:tok-pw').toString('base64')}` && url.searchParams.get('scope') === 'repository:team/app:pull' && url.searchParams.get('service') === 'front';
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? JSON.stringify({ token: 'tok-1' }) : '{}');
        return;
      }
      if (req.headers.authorization !== 'Bearer tok-1') {
        const port = (server.address() as { port: number }).port;
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="front",scope="repository:team/app:pull"` }).end();
        return;
      }
      void fetch(`http://${open.host}${req.url}`, { headers: { accept: req.headers.accept ?? '*/*' } }).then(async (r) => {
        res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream' }).end(Buffer.from(await r.arrayBuffer()));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const front = `127.0.0.1:${(server.address() as { port: number }).port}`;
      const config = join(dir, 'token.json');
      await writeFile(config, JSON.stringify({ auths: { [front]: { username: 'alice', password: 'tok-pw' } } }));
      const info = await inspectImage(`${front}/team/app:v1`, opts({ insecureRegistries: [front], dockerConfigFile: config }));
      expect(info.layers.map((l) => l.rootHash)).toEqual(await pinsOf(single.layersByPlatform['linux/amd64']));
      expect(tokenRequests).toBeGreaterThan(0);
      await writeFile(config, JSON.stringify({ auths: { [front]: { username: 'alice', password: 'nope' } } }));
      await expect(inspectImage(`${front}/team/app:v1`, opts({ insecureRegistries: [front], dockerConfigFile: config }))).rejects.toMatchObject({ code: 'registry_unauthorized' });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('keeps one cache consistent when 4 processes fill it at once', async () => {
    const cacheDir = join(dir, 'shared-cache');
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--json', 'image', 'inspect', `${open.host}/team/app:v1`, '--cache', cacheDir, '--insecure-registry', open.host], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let errText = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (errText += d.toString()));
        child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${errText}`))));
      });
    const outputs = await Promise.all([run(), run(), run(), run()]);
    const expected = await pinsOf(single.layersByPlatform['linux/amd64']);
    for (const out of outputs) expect((JSON.parse(out) as { layers: { rootHash: string }[] }).layers.map((l) => l.rootHash)).toEqual(expected);
    const files = await readdir(join(cacheDir, 'layers'));
    expect(files.sort()).toEqual(single.layersByPlatform['linux/amd64'].map((l) => `${sha256(l.tar).replace(':', '-')}.json`).sort());
    for (const f of files) expect(JSON.parse(await readFile(join(cacheDir, 'layers', f), 'utf8'))).toMatchObject({ version: 1 });
    const offline = await inspectImage(`${open.host}/team/app:v1`, { cacheDir, insecureRegistries: [open.host], offline: true });
    expect(offline.layers.map((l) => l.rootHash)).toEqual(expected);
  }, 60000);

  it('resolves offline from an online run, with the registry gone, and names what is missing', async () => {
    const gone = await startRegistry();
    await gone.push('team/app', 'v1', multi);
    const cacheDir = join(dir, 'offline-cache');
    const base = { cacheDir, insecureRegistries: [gone.host], platform: 'linux/arm64' };
    const online = await inspectImage(`${gone.host}/team/app:v1`, base);
    await gone.stop(); // any connection attempt from here on would fail
    const offline = await inspectImage(`${gone.host}/team/app:v1`, { ...base, offline: true });
    expect(offline).toEqual(online);
    await expect(inspectImage(`${gone.host}/team/app:v2`, { ...base, offline: true })).rejects.toMatchObject({ code: 'image_offline_miss' });
    await expect(inspectImage(`${gone.host}/team/app:v1`, { ...base, platform: 'linux/amd64', offline: true })).rejects.toMatchObject({ code: 'image_offline_miss' });
    // Without --offline the same call needs the registry, and says so.
    await expect(inspectImage(`${gone.host}/team/app:v1`, base)).rejects.toBeDefined();
  }, 30000);
});
