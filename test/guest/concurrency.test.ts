/**
 * Guest agents against TWO `confcom serve attestation` processes sharing one real redis-server (and one
 * mounted signing key), reached through a load balancer without session affinity: every request goes to
 * the next replica, so each agent authenticates on one replica and attests on the other.
 *   - 50 concurrent agents all get their secret; the shared audit log holds exactly 50 releases, by both
 *     replicas, without the secret.
 *   - a nonce burnt on one replica (a failed attestation) is refused on the other (`nonce_replayed`).
 * The in-process store contract and the hand-written-client replica checks are in test/attest/store.
 * Also: the agent's API refuses to listen beyond loopback.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulatedTee, type SimulatedTee } from '../../src/attest/sim/index.js';
import { RedisStore } from '../../src/attest/store/index.js';
import { SimulatedSnpProvider } from '../../src/guest/evidence/sim.js';
import { KbsClient } from '../../src/guest/kbs-client.js';
import { GuestFlowError } from '../../src/guest/errors.js';
import type { FetchLike } from '../../src/guest/http.js';
import { runConfcom } from '../helpers/cli.js';
import { hasRedis, startRedis, type RedisServer } from '../helpers/redis.js';
import { startServeReplicas, type ServeReplicas } from '../attest/service/serve-process.js';

const ISSUER = 'https://confcom-attestation.test';
const RESOURCE = 'default/key/shared';
const SECRET = 'shared-secret-of-the-replicas';
const hostData = createHash('sha256').update('pod policy').digest();

/** A load balancer with no session affinity: each request goes to the next replica in turn. */
function roundRobin(urls: string[], seen?: string[]): FetchLike {
  let next = 0;
  return (url, init) => {
    const target = urls[next++ % urls.length]!;
    const path = new URL(url).pathname;
    seen?.push(`${path} -> ${target}`);
    return fetch(target + path, init);
  };
}

describe.skipIf(!hasRedis())('guest agents against two service processes on one Redis', () => {
  let redis: RedisServer;
  let replicas: ServeReplicas;
  let tee: SimulatedTee;
  const dir = mkdtempSync(join(tmpdir(), 'confcom-guest-replicas-'));

  beforeAll(async () => {
    redis = await startRedis();
    tee = await createSimulatedTee();
    mkdirSync(join(dir, 'secrets', 'default', 'key'), { recursive: true });
    writeFileSync(join(dir, 'secrets', 'default', 'key', 'shared'), SECRET);
    const policy = { version: '1.0.0', anyOf: [{ authority: ISSUER, allOf: [{ claim: 'x-ms-sevsnpvm-hostdata', equals: hostData.toString('hex') }] }] };
    writeFileSync(join(dir, 'secrets', 'release-policy.json'), JSON.stringify(policy));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'signing.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    replicas = await startServeReplicas(2, { redisUrl: redis.url, signingKey: join(dir, 'signing.pem'), issuer: ISSUER, args: ['--trust-simulator', '--secrets', join(dir, 'secrets')] });
  }, 60_000);
  afterAll(async () => {
    replicas?.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('50 concurrent agents, each authenticating on one replica and attesting on the other, all get the secret; the audit log has exactly 50 releases', async () => {
    const audit = await RedisStore.connect({ url: redis.url });
    try {
      const before = (await audit.audit()).length;
      const routes: string[][] = [];
      const agents = Array.from({ length: 50 }, (_, i) => {
        const seen: string[] = [];
        routes.push(seen);
        // Half the agents start on each replica.
        const urls = i % 2 === 0 ? replicas.urls : [...replicas.urls].reverse();
        return new KbsClient({ url: 'http://load-balancer.invalid', evidence: new SimulatedSnpProvider({ hostData, tee }), fetch: roundRobin(urls, seen), retry: { retries: 0 } });
      });
      const results = await Promise.allSettled(agents.map((a) => a.getResource(RESOURCE)));
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String(r.reason));
      expect(failures).toEqual([]);
      expect(results.every((r) => r.status === 'fulfilled' && r.value.toString() === SECRET)).toBe(true);
      // Each agent's auth and attest went to different processes.
      for (const seen of routes) {
        const auth = seen.find((s) => s.startsWith('/kbs/v0/auth'))!.split(' -> ')[1];
        const attest = seen.find((s) => s.startsWith('/kbs/v0/attest'))!.split(' -> ')[1];
        expect(auth).not.toBe(attest);
      }
      const log = (await audit.audit()).slice(before);
      expect(log).toHaveLength(50);
      expect(log.every((e) => e.resource === RESOURCE && e.endpoint === 'kbs/resource')).toBe(true);
      expect(new Set(log.map((e) => e.jti)).size).toBe(50);
      expect(new Set(log.map((e) => e.replica)).size).toBe(2);
      expect(JSON.stringify(log)).not.toContain(SECRET);
      for (const p of replicas.processes) expect(p.stderr()).not.toContain(SECRET);
    } finally {
      await audit.close();
    }
  }, 60_000);

  it('a nonce burnt by a failed attestation on one replica is refused on the other', async () => {
    const [a, b] = replicas.urls as [string, string];
    const audit = await RedisStore.connect({ url: redis.url });
    const before = (await audit.audit()).length;
    // Auth on A; the attestation goes first to A with evidence that does not verify (burning the
    // nonce there), then the agent's genuine attestation goes to B.
    const lb: FetchLike = async (url, init) => {
      const path = new URL(url).pathname;
      if (path !== '/kbs/v0/attest') return fetch(a + path, init);
      const body = JSON.parse(String(init.body)) as { 'tee-evidence': { primary_evidence: unknown } };
      const forged = { ...body, 'tee-evidence': { ...body['tee-evidence'], primary_evidence: { report: Buffer.alloc(1184).toString('base64') } } };
      const first = await fetch(a + path, { ...init, body: JSON.stringify(forged) });
      expect(first.status).toBe(401);
      return fetch(b + path, init);
    };
    const agent = new KbsClient({ url: 'http://load-balancer.invalid', evidence: new SimulatedSnpProvider({ hostData, tee }), fetch: lb, retry: { retries: 0 } });
    try {
      const error = await agent.getResource(RESOURCE).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(GuestFlowError);
      expect(error).toMatchObject({ step: 'kbs/attest', status: 401, details: { peerCode: 'nonce_replayed', peerType: 'AttestationError' } });
      expect((await audit.audit()).length).toBe(before);
    } finally {
      await audit.close();
    }
  }, 30_000);
});

describe('the guest API', () => {
  it('refuses to serve the local API beyond loopback', async () => {
    const r = await runConfcom(['guest', 'serve', '--host', '0.0.0.0', '--evidence', 'simulated']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/loopback only/);
  });
});
