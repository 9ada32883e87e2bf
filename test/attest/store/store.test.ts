/**
 * The session/nonce/audit store: one contract for memory and Redis (a real redis-server on a loopback
 * port), then two service instances sharing one Redis as two replicas: auth on one and attest on the
 * other, a nonce burnt on one is refused on the other, 50 concurrent clients across both all get
 * their secret, and the audit log holds exactly one entry per release. The same over two `serve attestation`
 * processes, driven by guest agents through a balancer without session affinity: test/guest/concurrency.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, flattenedDecrypt, generateKeyPair, type FlattenedJWE, type JWK } from 'jose';
import { MemoryStore, RedisStore, openStore, type AttestationStore, type StoredSession } from '../../../src/attest/store/index.js';
import { createAttestationServer, type AttestationServer } from '../../../src/attest/service/index.js';
import { SecretStore } from '../../../src/attest/kbs/secrets.js';
import { createSimulatedTee, type SimulatedTee } from '../../../src/attest/sim/index.js';
import { SigningKeyRing } from '../../../src/attest/token/keys.js';
import { createLogger } from '../../../src/core/log.js';
import { hasRedis, startRedis, type RedisServer } from '../../helpers/redis.js';
import { runConfcom } from '../../helpers/cli.js';
import { startServeAttestation } from '../service/serve-process.js';

const redisAvailable = hasRedis();

function session(id: string, expiresAtMs: number): StoredSession {
  return { id, nonce: `nonce-${id}`, tee: 'snp', createdAtMs: 0, expiresAtMs };
}

function contract(name: string, open: (clock: { now: number }) => Promise<AttestationStore>): void {
  describe(`${name} store contract`, () => {
    it('sessions live until their own expiry, independent of each other', async () => {
      const clock = { now: Date.now() };
      const store = await open(clock);
      try {
        await store.putSession(session('a', clock.now + 1000));
        await store.putSession(session('b', clock.now + 60_000));
        expect((await store.getSession('a'))?.nonce).toBe('nonce-a');
        clock.now += 1500;
        expect(await store.getSession('a')).toBeUndefined();
        expect((await store.getSession('b'))?.nonce).toBe('nonce-b');
        await store.putSession({ ...session('b', clock.now + 60_000), token: 't' });
        expect((await store.getSession('b'))?.token).toBe('t');
        expect(await store.getSession('nope')).toBeUndefined();
      } finally {
        await store.close();
      }
    });

    it('a nonce burns exactly once, even when raced', async () => {
      const store = await open({ now: Date.now() });
      try {
        const nonce = `n-${Math.random()}`;
        const results = await Promise.all(Array.from({ length: 10 }, () => store.burnNonce(nonce, 60_000)));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.burnNonce(nonce, 60_000)).toBe(false);
      } finally {
        await store.close();
      }
    });

    it('the audit log keeps every entry in order', async () => {
      const store = await open({ now: Date.now() });
      try {
        const before = (await store.audit()).length;
        for (let i = 0; i < 3; i++) await store.appendAudit({ atMs: i, resource: `r/t/${i}`, endpoint: 'kbs/resource', replica: 'x' });
        const log = await store.audit();
        expect(log.length - before).toBe(3);
        expect(log.slice(-3).map((e) => e.resource)).toEqual(['r/t/0', 'r/t/1', 'r/t/2']);
        expect((await store.audit(2)).map((e) => e.resource)).toEqual(['r/t/1', 'r/t/2']);
      } finally {
        await store.close();
      }
    });
  });
}

contract('memory', async (clock) => new MemoryStore({ now: () => clock.now }));

describe.skipIf(!redisAvailable)('Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  describe('contract', () => {
    let n = 0;
    contract('redis', async (clock) => RedisStore.connect({ url: redis.url, now: () => clock.now, prefix: `t${n++}:` }));
  });

  it('an unreachable Redis is a typed error naming the URL without its password', async () => {
    await expect(openStore('redis://user:secretpw@127.0.0.1:1')).rejects.toMatchObject({ code: 'store_unreachable' });
    await expect(openStore('redis://user:secretpw@127.0.0.1:1')).rejects.not.toThrow(/secretpw/);
    await expect(openStore('postgres://x')).rejects.toMatchObject({ code: 'store_url_invalid' });
  });

  it('confcom serve attestation --store redis://... starts on the shared store; an unreachable one is exit 2', async () => {
    const serve = await startServeAttestation(['--store', redis.url]);
    try {
      expect(serve.stderr()).toContain(`store ${redis.url}`);
      const auth = await fetch(`${serve.url}/kbs/v0/auth`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version: '0.4.0', tee: 'snp', 'extra-params': '' }) });
      expect(auth.status).toBe(200);
      const id = /kbs-session-id=([^;]*)/.exec(auth.headers.get('set-cookie') ?? '')![1]!;
      const shared = await RedisStore.connect({ url: redis.url });
      try {
        expect((await shared.getSession(id))?.nonce).toBe(((await auth.json()) as { nonce: string }).nonce);
      } finally {
        await shared.close();
      }
    } finally {
      serve.stop();
    }
    const down = await runConfcom(['serve', 'attestation', '--port', '0', '--store', 'redis://127.0.0.1:1']);
    expect(down.code).toBe(2);
    expect(down.stderr).toContain('store_unreachable');
  }, 60_000);

  describe('two service replicas on one Redis', () => {
    const dir = mkdtempSync(join(tmpdir(), 'confcom-replicas-'));
    const hostData = createHash('sha256').update('pod policy').digest();
    let sim: SimulatedTee;
    const replicas: { server: AttestationServer; url: string; store: AttestationStore }[] = [];

    beforeAll(async () => {
      sim = await createSimulatedTee();
      mkdirSync(join(dir, 'default', 'keys'), { recursive: true });
      writeFileSync(join(dir, 'default', 'keys', 'db'), 'replicated-secret');
      writeFileSync(
        join(dir, 'release-policy.json'),
        JSON.stringify({ version: '1.0.0', anyOf: [{ authority: 'https://replicas.test', allOf: [{ claim: 'x-ms-sevsnpvm-hostdata', equals: hostData.toString('hex') }] }] }),
      );
      // Replicas share the signing keys (as they would share a mounted key) and the store.
      const keyRing = await SigningKeyRing.create();
      for (const name of ['a', 'b']) {
        const store = await RedisStore.connect({ url: redis.url, prefix: 'replicas:' });
        const server = await createAttestationServer({
          issuer: 'https://replicas.test', trustSimulator: true, keyRing, store, replica: name,
          secrets: new SecretStore(dir), logger: createLogger({ level: 'silent' }),
        });
        replicas.push({ server, store, url: await server.app.listen({ host: '127.0.0.1', port: 0 }) });
      }
    });
    afterAll(async () => {
      for (const r of replicas) {
        await r.server.app.close();
        await r.store.close();
      }
      rmSync(dir, { recursive: true, force: true });
    });

    async function client() {
      const { publicKey, privateKey } = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true });
      const jwk: JWK = { ...(await exportJWK(publicKey)), alg: 'ECDH-ES+A256KW' };
      let cookie = '';
      let nonce = '';
      const json = async (url: string, path: string, body?: unknown) => {
        const r = await fetch(url + path, {
          method: body === undefined ? 'GET' : 'POST',
          headers: { ...(cookie ? { cookie } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const m = /kbs-session-id=([^;]*)/.exec(r.headers.get('set-cookie') ?? '');
        if (m) cookie = `kbs-session-id=${m[1]}`;
        return { status: r.status, body: (await r.json()) as Record<string, unknown> };
      };
      const evidence = async (n = nonce) => {
        const rd = Buffer.alloc(64);
        createHash('sha384').update(`{"additional-evidence":"","nonce":${JSON.stringify(n)},"tee-pubkey":${jcsKey(jwk)}}`).digest().copy(rd);
        const { report, certs } = await sim.snpReport({ reportData: rd, hostData, reportedTcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115 } });
        return { report: report.toString('base64'), certs: certs.map((c) => c.toString('base64')) };
      };
      return {
        auth: async (url: string) => {
          const r = await json(url, '/kbs/v0/auth', { version: '0.4.0', tee: 'snp', 'extra-params': '' });
          nonce = String(r.body.nonce);
          return r;
        },
        attest: async (url: string, ev?: unknown) =>
          json(url, '/kbs/v0/attest', { 'runtime-data': { nonce, 'tee-pubkey': jwk }, 'tee-evidence': { primary_evidence: ev ?? (await evidence()), additional_evidence: '' } }),
        resource: async (url: string) => {
          const r = await json(url, '/kbs/v0/resource/default/keys/db');
          if (r.status !== 200) return `status ${r.status}`;
          return Buffer.from((await flattenedDecrypt(r.body as unknown as FlattenedJWE, privateKey)).plaintext).toString();
        },
      };
    }

    it('auth on one replica, attest on the other, resource from the first', async () => {
      const [a, b] = replicas;
      const c = await client();
      expect((await c.auth(a!.url)).status).toBe(200);
      const attest = await c.attest(b!.url);
      expect(attest.status, JSON.stringify(attest.body)).toBe(200);
      expect(await c.resource(a!.url)).toBe('replicated-secret');
      expect(await c.resource(b!.url)).toBe('replicated-secret');
    });

    it('a nonce used on one replica is refused on the other', async () => {
      const [a, b] = replicas;
      const c = await client();
      await c.auth(a!.url);
      const wrong = await c.attest(a!.url, { report: Buffer.alloc(1184).toString('base64') }); // burns the nonce, fails
      expect(wrong.status).toBe(401);
      const retry = await c.attest(b!.url);
      expect(retry.status).toBe(401);
      expect(retry.body).toMatchObject({ code: 'nonce_replayed', type: 'https://github.com/confidential-containers/kbs/errors/AttestationError' });
      expect(await c.resource(a!.url)).toBe('status 401');
    });

    it('50 concurrent clients across both replicas all get the secret; the audit log holds exactly 50 releases', async () => {
      const before = (await replicas[0]!.store.audit()).length;
      const results = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const c = await client();
          const [first, second] = i % 2 === 0 ? [replicas[0]!, replicas[1]!] : [replicas[1]!, replicas[0]!];
          await c.auth(first.url);
          const a = await c.attest(second.url);
          if (a.status !== 200) return `attest ${a.status}`;
          return c.resource(first.url);
        }),
      );
      expect(results.filter((r) => r === 'replicated-secret')).toHaveLength(50);
      const log = (await replicas[1]!.store.audit()).slice(before);
      expect(log).toHaveLength(50);
      expect(new Set(log.map((e) => e.jti)).size).toBe(50);
      expect(new Set(log.map((e) => e.replica))).toEqual(new Set(['a', 'b']));
      expect(JSON.stringify(log)).not.toContain('replicated-secret');
    });
  });
});

/** JCS of a flat JWK (string members only). */
function jcsKey(jwk: JWK): string {
  const o = jwk as Record<string, unknown>;
  return '{' + Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(o[k])}`).join(',') + '}';
}
