/**
 * A KBS client written here from trustee's protocol document (kbs/docs/kbs_attestation_protocol.md,
 * version 0.4.0), sharing no helper with the server: its own JCS, its own REPORT_DATA, cookies by hand.
 * It attests with simulated SNP evidence over real HTTP and decrypts the resource; init-data, the
 * admin API, the `jwk` claim, many concurrent clients and a stranger hammering /auth.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, decodeJwt, exportJWK, flattenedDecrypt, generateKeyPair, importJWK, jwtVerify, type CryptoKey, type FlattenedJWE, type JWK } from 'jose';
import { createSimulatedTee, type SimulatedTee } from '../../../src/attest/sim/index.js';
import { SimulatedSnpChip } from '../../../src/attest/sim/snp.js';
import { simulateAzVtpm } from '../../../src/attest/az-snp-vtpm/sim.js';
import { createAttestationServer, type AttestationServer } from '../../../src/attest/service/index.js';
import { SecretStore } from '../../../src/attest/kbs/secrets.js';
import { loadAdminPublicKey } from '../../../src/attest/kbs/admin.js';
import { MemoryStore } from '../../../src/attest/store/index.js';
import { createLogger } from '../../../src/core/log.js';

const ISSUER = 'https://kbs.test';
const ERRORS = 'https://github.com/confidential-containers/kbs/errors/';
const FIXTURES = fileURLToPath(new URL('../../fixtures/attest-service/', import.meta.url));
const POLICY_HASH = createHash('sha256').update(readFileSync(`${FIXTURES}pod-policy.rego`)).digest('hex');

/** RFC 8785 for the JSON the protocol uses (strings, booleans, objects, arrays, integers). */
function jcs(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(jcs).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return '{' + Object.keys(o).sort().map((k) => JSON.stringify(k) + ':' + jcs(o[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

interface TeeKey {
  jwk: JWK;
  privateKey: CryptoKey;
}

async function ephemeralKey(kind: 'ec' | 'rsa'): Promise<TeeKey> {
  if (kind === 'rsa') {
    const { publicKey, privateKey } = await generateKeyPair('RSA-OAEP-256', { modulusLength: 2048, extractable: true });
    return { jwk: { ...(await exportJWK(publicKey)), alg: 'RSA-OAEP-256' }, privateKey };
  }
  const { publicKey, privateKey } = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true });
  return { jwk: { ...(await exportJWK(publicKey)), alg: 'ECDH-ES+A256KW' }, privateKey };
}

/** The client side of RCAR: Request -> Challenge -> Attestation -> token, then resources with the cookie. */
class KbsClient {
  cookie = '';
  nonce = '';
  token = '';
  constructor(
    private readonly url: string,
    readonly key: TeeKey,
  ) {}

  private async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const h: Record<string, string> = { ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (body !== undefined) h['content-type'] = 'application/json';
    const r = await fetch(this.url + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const set = r.headers.get('set-cookie');
    const m = set ? /kbs-session-id=([^;]*)/.exec(set) : null;
    if (m) this.cookie = `kbs-session-id=${m[1]}`;
    return r;
  }

  async auth(tee = 'snp', version = '0.4.0'): Promise<Response> {
    const r = await this.call('POST', '/kbs/v0/auth', { version, tee, 'extra-params': '' });
    if (r.status === 200) this.nonce = ((await r.clone().json()) as { nonce: string }).nonce;
    return r;
  }

  /** REPORT_DATA the TEE must sign: SHA-384 of the JCS runtime data the KBS hands its attestation service. */
  reportData(additional = ''): Buffer {
    const out = Buffer.alloc(64);
    createHash('sha384').update(jcs({ 'tee-pubkey': this.key.jwk, nonce: this.nonce, 'additional-evidence': additional })).digest().copy(out);
    return out;
  }

  async attest(primaryEvidence: unknown, initData?: string): Promise<Response> {
    const body: Record<string, unknown> = {
      'runtime-data': { nonce: this.nonce, 'tee-pubkey': this.key.jwk },
      'tee-evidence': { primary_evidence: primaryEvidence, additional_evidence: '' },
    };
    if (initData !== undefined) body['init-data'] = { format: 'toml', body: initData };
    const r = await this.call('POST', '/kbs/v0/attest', body);
    if (r.status === 200) this.token = ((await r.clone().json()) as { token: string }).token;
    return r;
  }

  async resource(path: string, useBearer = false): Promise<{ status: number; plain?: string; body: string }> {
    const saved = this.cookie;
    if (useBearer) this.cookie = '';
    const r = await this.call('GET', `/kbs/v0/resource/${path}`, undefined, useBearer ? { authorization: `Bearer ${this.token}` } : {});
    this.cookie = saved;
    const text = await r.text();
    if (r.status !== 200) return { status: r.status, body: text };
    const jwe = JSON.parse(text) as FlattenedJWE;
    return { status: 200, body: text, plain: Buffer.from((await flattenedDecrypt(jwe, this.key.privateKey)).plaintext).toString() };
  }
}

async function snpEvidence(sim: SimulatedTee, reportData: Buffer, hostData: Buffer): Promise<unknown> {
  const { report, certs } = await sim.snpReport({ reportData, hostData, measurement: Buffer.alloc(48, 0xc0), reportedTcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115 } });
  return { report: report.toString('base64'), certs: certs.map((c) => c.toString('base64')) };
}

const INIT_DATA = `algorithm = "sha256"
version = "0.1.0"

[data]
"policy.rego" = '''
package agent_policy
default AllowRequestsFailingPolicy := true
'''
"aa.toml" = "kbs = 'http://127.0.0.1'"
`;
const INIT_DIGEST = createHash('sha256').update(INIT_DATA).digest('hex');

function releasePolicy(conditions: unknown[]): string {
  return JSON.stringify({ version: '1.0.0', anyOf: [{ authority: ISSUER, allOf: conditions }] });
}

describe('a KBS client written from trustee\'s protocol document', () => {
  let sim: SimulatedTee;
  let server: AttestationServer;
  let url = '';
  const dir = mkdtempSync(join(tmpdir(), 'confcom-kbs-'));
  const logs: string[] = [];
  const admin = generateKeyPairSync('ed25519');
  const store = new MemoryStore();

  beforeAll(async () => {
    sim = await createSimulatedTee();
    mkdirSync(join(dir, 'default', 'keys'), { recursive: true });
    writeFileSync(join(dir, 'default', 'keys', 'db'), 'db-secret-value');
    mkdirSync(join(dir, 'init', 'keys'), { recursive: true });
    writeFileSync(join(dir, 'init', 'keys', 'k'), 'init-bound-secret');
    writeFileSync(join(dir, 'release-policy.json'), releasePolicy([{ claim: 'x-ms-sevsnpvm-hostdata', equals: POLICY_HASH }]));
    writeFileSync(join(dir, 'init', 'keys', '.release-policy.json'), releasePolicy([{ claim: 'init_data', equals: INIT_DIGEST }, { claim: 'init_data_claims', exists: true }]));
    server = await createAttestationServer({
      issuer: ISSUER,
      trustSimulator: true,
      secrets: new SecretStore(dir),
      store,
      adminKey: loadAdminPublicKey(admin.publicKey.export({ type: 'spki', format: 'pem' }).toString()),
      logger: createLogger({ level: 'debug', json: true, write: (l) => logs.push(l) }),
    });
    url = await server.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('az-snp-vtpm (trustee\'s JSON evidence): REPORT_DATA rides in the TPM quote\'s extraData; another binding is refused', async () => {
    const chip = new SimulatedSnpChip();
    const vtpm = async (nonce: Buffer) => {
      const { evidence, certs } = await simulateAzVtpm(chip, { nonce });
      return { ...(JSON.parse(evidence.toString()) as Record<string, unknown>), vcek: certs[0].toString('base64url'), certs: certs.slice(1).map((c) => c.toString('base64')) };
    };
    const c = new KbsClient(url, await ephemeralKey('ec'));
    expect((await c.auth('az-snp-vtpm')).status).toBe(200);
    const attest = await c.attest(await vtpm(c.reportData()));
    expect(attest.status, await attest.clone().text()).toBe(200);
    const claims = decodeJwt(c.token);
    expect(claims['x-ms-attestation-type']).toBe('azurevm');
    expect(claims['x-confcom-simulated']).toBe(true);
    const stranger = new KbsClient(url, await ephemeralKey('ec'));
    expect((await stranger.auth('az-snp-vtpm')).status).toBe(200);
    const refused = await stranger.attest(await vtpm(Buffer.alloc(64, 7)));
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { type: string }).type).toBe(`${ERRORS}AttestationError`);
  });

  for (const kind of ['ec', 'rsa'] as const) {
    it(`${kind} TEE key: auth, attest, resource by cookie and by bearer token, decrypted only with the TEE key`, async () => {
      const c = new KbsClient(url, await ephemeralKey(kind));
      expect((await c.auth()).status).toBe(200);
      expect(c.cookie).toMatch(/^kbs-session-id=.+/);
      expect(Buffer.from(c.nonce, 'base64')).toHaveLength(32);
      const attest = await c.attest(await snpEvidence(sim, c.reportData(), Buffer.from(POLICY_HASH, 'hex')));
      expect(attest.status, await attest.clone().text()).toBe(200);
      const claims = decodeJwt(c.token);
      expect(claims.iss).toBe(ISSUER);
      expect(claims['tee-pubkey']).toEqual(c.key.jwk);
      // The `jwk` claim verifies the token itself.
      const { payload } = await jwtVerify(c.token, await importJWK(claims.jwk as JWK, (claims.jwk as JWK).alg));
      expect(payload.jti).toBe(claims.jti);
      const byCookie = await c.resource('default/keys/db');
      expect(byCookie.plain).toBe('db-secret-value');
      expect(byCookie.body).not.toContain('db-secret-value');
      expect((await c.resource('default/keys/db', true)).plain).toBe('db-secret-value');
      // Another key cannot open it.
      const other = await ephemeralKey(kind);
      await expect(flattenedDecrypt(JSON.parse(byCookie.body) as FlattenedJWE, other.privateKey)).rejects.toThrow();
    });
  }

  it('init-data: its digest must be HOST_DATA; its claims reach the token and the resource policy', async () => {
    const c = new KbsClient(url, await ephemeralKey('ec'));
    await c.auth();
    const hostData = Buffer.from(INIT_DIGEST, 'hex');
    const ok = await c.attest(await snpEvidence(sim, c.reportData(), hostData), INIT_DATA);
    expect(ok.status, await ok.clone().text()).toBe(200);
    const claims = decodeJwt(c.token);
    expect(claims.init_data).toBe(INIT_DIGEST);
    expect((claims.init_data_claims as Record<string, string>)['aa.toml']).toBe("kbs = 'http://127.0.0.1'");
    expect((await c.resource('init/keys/k')).plain).toBe('init-bound-secret');
    // This VM's HOST_DATA is not the fixture policy hash, so the other resource is refused.
    const refused = await c.resource('default/keys/db');
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).type).toBe(`${ERRORS}PolicyDeny`);

    // Init-data that is not what the TEE was launched with.
    const d = new KbsClient(url, await ephemeralKey('ec'));
    await d.auth();
    const bad = await d.attest(await snpEvidence(sim, d.reportData(), hostData), INIT_DATA.replace('true', 'false'));
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ type: `${ERRORS}AttestationError`, code: 'init_data_mismatch' });
    const e = new KbsClient(url, await ephemeralKey('ec'));
    await e.auth();
    const json = await e.attest(await snpEvidence(sim, e.reportData(), hostData), undefined);
    expect(json.status).toBe(200); // without init-data there is nothing to compare...
    expect((await e.resource('init/keys/k')).status).toBe(403); // ...and the init-data policy refuses
  });

  it('error paths answer with trustee\'s status and ErrorInformation body, and release nothing', async () => {
    const c = new KbsClient(url, await ephemeralKey('ec'));
    const noCookie = await c.attest({});
    expect(noCookie.status).toBe(401);
    expect(await noCookie.json()).toMatchObject({ type: `${ERRORS}AttestationError` });
    const unauth = await c.resource('default/keys/db');
    expect(unauth.status).toBe(401);
    expect(JSON.parse(unauth.body)).toMatchObject({ type: `${ERRORS}TokenNotFound` });
    expect((await c.auth('snp', '0.3.0')).status).toBe(401);
    await c.auth();
    const garbage = await fetch(`${url}/kbs/v0/attest`, { method: 'POST', headers: { cookie: c.cookie, 'content-type': 'application/json' }, body: '{"runtime-data": 7}' });
    expect(garbage.status).toBe(401);
    const notJson = await fetch(`${url}/kbs/v0/attest`, { method: 'POST', headers: { cookie: c.cookie, 'content-type': 'application/json' }, body: '{not json' });
    expect(notJson.status).toBe(401);
    expect(((await notJson.json()) as { type: string }).type).toBe(`${ERRORS}SerdeError`);
    const badEvidence = await c.attest({ report: 'AAAA' });
    expect(badEvidence.status).toBe(401);
    expect(((await badEvidence.json()) as { type: string }).type).toBe(`${ERRORS}AttestationError`);
    for (const l of logs) expect(l).not.toContain('db-secret-value');
  });

  it('20 concurrent clients and a stranger calling /auth in a loop: all 20 get their resource', async () => {
    let done = false;
    let strangerCalls = 0;
    const strangerLoop = (async () => {
      while (!done) {
        await new KbsClient(url, await ephemeralKey('ec')).auth();
        strangerCalls++;
      }
    })();
    const flows = Array.from({ length: 20 }, async () => {
      const c = new KbsClient(url, await ephemeralKey('ec'));
      await c.auth();
      await new Promise((r) => setTimeout(r, Math.random() * 20));
      const a = await c.attest(await snpEvidence(sim, c.reportData(), Buffer.from(POLICY_HASH, 'hex')));
      if (a.status !== 200) return `attest ${a.status}`;
      return (await c.resource('default/keys/db')).plain;
    });
    const results = await Promise.all(flows);
    done = true;
    await strangerLoop;
    expect(results.filter((r) => r === 'db-secret-value')).toHaveLength(20);
    expect(strangerCalls).toBeGreaterThan(5);
  });

  it('admin API: resource and resource-policy upload need the Ed25519 admin JWT', async () => {
    const jwt = async (key = admin.privateKey) => new SignJWT({}).setProtectedHeader({ alg: 'EdDSA' }).setIssuedAt().setExpirationTime('5m').sign(key);
    const put = async (path: string, body: string | Uint8Array, token?: string, type = 'application/octet-stream') =>
      fetch(`${url}/kbs/v0/${path}`, { method: 'POST', headers: { 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : {}) }, body });
    const stranger = generateKeyPairSync('ed25519');
    for (const token of [undefined, await jwt(stranger.privateKey), 'not.a.jwt']) {
      const r = await put('resource/default/keys/uploaded', 'nope', token);
      expect(r.status).toBe(401);
      expect(((await r.json()) as { type: string }).type).toBe(`${ERRORS}AdminAuth`);
    }
    expect((await put('resource/default/keys/uploaded', 'uploaded-value', await jwt())).status).toBe(200);
    const c = new KbsClient(url, await ephemeralKey('ec'));
    await c.auth();
    await c.attest(await snpEvidence(sim, c.reportData(), Buffer.from(POLICY_HASH, 'hex')));
    expect((await c.resource('default/keys/uploaded')).plain).toBe('uploaded-value');
    // A new default resource policy that this VM does not meet: refused from then on.
    const policy = Buffer.from(releasePolicy([{ claim: 'x-ms-sevsnpvm-hostdata', equals: 'ab'.repeat(32) }])).toString('base64');
    expect((await put('resource-policy', JSON.stringify({ policy }), undefined, 'application/json')).status).toBe(401);
    const set = await put('resource-policy', JSON.stringify({ policy }), await jwt(), 'application/json');
    expect(set.status, await set.clone().text()).toBe(200);
    expect((await c.resource('default/keys/uploaded')).status).toBe(403);
  });


});

describe('EAR tokens (--token-format ear), as trustee\'s attestation service issues', () => {
  it('the token is an EAR with cpu0 affirming and the TEE key where trustee reads it; a policy on ear.status releases', async () => {
    const sim = await createSimulatedTee();
    const dir = mkdtempSync(join(tmpdir(), 'confcom-ear-'));
    mkdirSync(join(dir, 'default', 'keys'), { recursive: true });
    writeFileSync(join(dir, 'default', 'keys', 'db'), 'ear-secret');
    writeFileSync(join(dir, 'release-policy.json'), releasePolicy([{ claim: 'submods.cpu0.ear.status', equals: 'affirming' }, { claim: 'submods.cpu0.ear.veraison.annotated-evidence.snp.host_data', equals: POLICY_HASH }]));
    const server = await createAttestationServer({ issuer: ISSUER, trustSimulator: true, tokenFormat: 'ear', secrets: new SecretStore(dir), logger: createLogger({ level: 'silent' }) });
    const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const c = new KbsClient(url, await ephemeralKey('ec'));
      await c.auth();
      expect((await c.attest(await snpEvidence(sim, c.reportData(), Buffer.from(POLICY_HASH, 'hex')))).status).toBe(200);
      const claims = decodeJwt(c.token) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(claims.eat_profile).toBe('tag:github.com,2023:veraison/ear');
      expect(claims.submods.cpu0['ear.status']).toBe('affirming');
      expect(claims.submods.cpu0['ear.veraison.annotated-evidence'].runtime_data_claims['tee-pubkey']).toEqual(c.key.jwk);
      expect(claims['x-confcom-simulated']).toBe(true);
      expect(claims['tee-pubkey']).toBeUndefined();
      expect((await c.resource('default/keys/db')).plain).toBe('ear-secret');
      // Another HOST_DATA: affirming, but the policy's host_data condition refuses.
      const d = new KbsClient(url, await ephemeralKey('ec'));
      await d.auth();
      await d.attest(await snpEvidence(sim, d.reportData(), Buffer.alloc(32, 1)));
      expect((await d.resource('default/keys/db')).status).toBe(403);
    } finally {
      await server.app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
