/**
 * The whole key-broker flow over real HTTP (fastify on 127.0.0.1:0) with evidence from the software
 * TEE: challenge, evidence bound to nonce + TEE key, appraisal, token, resource released as a JWE that
 * only the TEE key opens; and every way it must refuse, with nothing released and nothing secret logged.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactDecrypt, decodeJwt, exportJWK, flattenedDecrypt, generateKeyPair, type CryptoKey, type FlattenedJWE, type JWK } from 'jose';
import { createSimulatedTee, type SimulatedTee } from '../../../src/attest/sim/index.js';
import { createAttestationServer, type AttestationServer } from '../../../src/attest/service/index.js';
import { SecretStore } from '../../../src/attest/kbs/secrets.js';
import { loadReferenceValues } from '../../../src/attest/appraisal/index.js';
import { createLogger } from '../../../src/core/log.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/attest-service/', import.meta.url));
const ISSUER = 'https://confcom.test';
const POLICY_HASH = createHash('sha256').update(readFileSync(`${FIXTURES}pod-policy.rego`)).digest('hex');
const SECRET = readFileSync(`${FIXTURES}secrets/default/keys/db-password`, 'utf8');
const MEASUREMENT = 'c0'.repeat(48);
const GOOD_TCB = { bootloader: 3, tee: 0, snp: 8, microcode: 115 };

type Sim = SimulatedTee;

interface Server {
  url: string;
  server: AttestationServer;
  logs: string[];
  clock: { now: number };
}

async function startServer(options: { reference?: boolean; trustSimulator?: boolean; tokenTtlSeconds?: number } = {}): Promise<Server> {
  const logs: string[] = [];
  const clock = { now: Date.now() };
  const server = await createAttestationServer({
    issuer: ISSUER,
    tokenTtlSeconds: options.tokenTtlSeconds ?? 60,
    reference: options.reference === false ? undefined : await loadReferenceValues(`${FIXTURES}reference.yaml`),
    trustSimulator: options.trustSimulator ?? true,
    secrets: new SecretStore(`${FIXTURES}secrets`),
    now: () => clock.now,
    logger: createLogger({ level: 'debug', json: true, write: (line) => logs.push(line) }),
  });
  const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
  return { url, server, logs, clock };
}

/** Runs `fn` against a server of its own, closed afterwards. */
async function withServer(options: Parameters<typeof startServer>[0], fn: (s: Server) => Promise<void>): Promise<void> {
  const s = await startServer(options);
  try {
    await fn(s);
  } finally {
    await s.server.app.close();
  }
}

/** Sorted-key JSON, written independently of the service's canonical JSON. */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

interface Tee {
  publicJwk: JWK;
  privateKey: CryptoKey;
}

async function teeKey(): Promise<Tee> {
  const { publicKey, privateKey } = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true });
  return { publicJwk: { ...(await exportJWK(publicKey)), alg: 'ECDH-ES+A256KW' }, privateKey };
}

/** REPORT_DATA as trustee's KBS 0.4.0 binds it: SHA-384 of the JCS runtime data, zero-padded. */
function kbsReportData(nonce: string, jwk: JWK): Buffer {
  const out = Buffer.alloc(64);
  createHash('sha384').update(sortedJson({ nonce, 'tee-pubkey': jwk, 'additional-evidence': '' })).digest().copy(out);
  return out;
}

function attestation(nonce: string, jwk: JWK, evidence: unknown): Record<string, unknown> {
  return { 'runtime-data': { nonce, 'tee-pubkey': jwk }, 'tee-evidence': { primary_evidence: evidence, additional_evidence: '' } };
}

const REQUEST = { version: '0.4.0', tee: 'snp', 'extra-params': '' };

interface EvidenceOptions {
  hostData?: string;
  debug?: boolean;
  tcb?: typeof GOOD_TCB;
}

async function snpEvidence(sim: Sim, reportData: Buffer, o: EvidenceOptions = {}): Promise<Record<string, unknown>> {
  const { report, certs } = await sim.snpReport({
    reportData,
    hostData: Buffer.from(o.hostData ?? POLICY_HASH, 'hex'),
    measurement: Buffer.from(MEASUREMENT, 'hex'),
    policyDebug: o.debug ?? false,
    reportedTcb: o.tcb ?? GOOD_TCB,
  });
  return { report: report.toString('base64'), certs: certs.map((c) => c.toString('base64')) };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

function sessionCookie(response: Response): string {
  const header = response.headers.get('set-cookie') ?? '';
  const match = /kbs-session-id=([^;]+)/.exec(header);
  if (!match) throw new Error(`no session cookie in '${header}'`);
  return `kbs-session-id=${match[1]}`;
}

/** auth + attest; returns the attest response and what a client keeps. */
async function kbsAttest(s: Server, sim: Sim, tee: Tee, o: EvidenceOptions & { bindTo?: (nonce: string) => Buffer } = {}) {
  const auth = await post(`${s.url}/kbs/v0/auth`, REQUEST);
  expect(auth.status).toBe(200);
  const cookie = sessionCookie(auth);
  const { nonce } = (await auth.json()) as { nonce: string };
  const reportData = o.bindTo ? o.bindTo(nonce) : kbsReportData(nonce, tee.publicJwk);
  const evidence = await snpEvidence(sim, reportData, o);
  const attest = await post(`${s.url}/kbs/v0/attest`, attestation(nonce, tee.publicJwk, evidence), { cookie });
  return { attest, cookie, nonce, evidence };
}

async function problem(response: Response): Promise<{ type: string; code: string; detail: string }> {
  return (await response.json()) as { type: string; code: string; detail: string };
}

function expectNothingReleased(s: Server, bodyText: string): void {
  expect(bodyText).not.toContain(SECRET);
  expect(bodyText).not.toContain('ciphertext');
  for (const line of s.logs) expect(line).not.toContain(SECRET);
}

describe('key broker flow over HTTP with simulated evidence', () => {
  let sim: Sim;
  let s: Server;
  beforeAll(async () => {
    sim = await createSimulatedTee();
    s = await startServer();
  });
  afterAll(async () => {
    await s.server.app.close();
  });

  it('allowed policy hash: the secret is released as a JWE only the TEE key opens', async () => {
    const tee = await teeKey();
    const { attest, cookie } = await kbsAttest(s, sim, tee);
    expect(attest.status).toBe(200);
    const { token } = (await attest.json()) as { token: string };
    const claims = decodeJwt(token);
    expect(claims['x-ms-attestation-type']).toBe('sevsnpvm');
    expect(claims['x-ms-sevsnpvm-hostdata']).toBe(POLICY_HASH);
    expect(claims['x-ms-sevsnpvm-launchmeasurement']).toBe(MEASUREMENT);
    expect(claims['x-ms-sevsnpvm-is-debuggable']).toBe(false);
    expect(claims['x-confcom-simulated']).toBe(true);
    expect(claims.iss).toBe(ISSUER);

    const resource = await fetch(`${s.url}/kbs/v0/resource/default/keys/db-password`, { headers: { cookie } });
    expect(resource.status).toBe(200);
    const text = await resource.text();
    expect(text).not.toContain(SECRET);
    const jwe = JSON.parse(text) as FlattenedJWE;
    expect(Buffer.from((await flattenedDecrypt(jwe, tee.privateKey)).plaintext).toString()).toBe(SECRET);
    await expect(flattenedDecrypt(jwe, (await teeKey()).privateKey)).rejects.toThrow();

    // The same token as a bearer works too; the Secret manifest resource has its own policy.
    const viaBearer = await fetch(`${s.url}/kbs/v0/resource/apps/tls/key.pem`, { headers: { authorization: `Bearer ${token}` } });
    expect(viaBearer.status).toBe(200);
    const tls = await flattenedDecrypt((await viaBearer.json()) as FlattenedJWE, tee.privateKey);
    expect(Buffer.from(tls.plaintext).toString()).toBe('tls-private-key-material');

    // A resource whose release policy wants SGX is refused; an unknown one is 404.
    const sgxOnly = await fetch(`${s.url}/kbs/v0/resource/other/keys/api-token`, { headers: { cookie } });
    expect(sgxOnly.status).toBe(403);
    expect(await problem(sgxOnly)).toMatchObject({ code: 'release_denied', type: 'https://github.com/confidential-containers/kbs/errors/PolicyDeny' });
    const missing = await fetch(`${s.url}/kbs/v0/resource/default/keys/nope`, { headers: { cookie } });
    expect(missing.status).toBe(404);
    expect((await problem(missing)).type).toBe('https://github.com/confidential-containers/kbs/errors/InvalidRequestPath');
    for (const line of s.logs) expect(line).not.toContain(SECRET);
    for (const line of s.logs) expect(line).not.toContain(token);
    expect(s.logs.some((l) => l.includes('"decision":"allow"') && l.includes('default/keys/db-password'))).toBe(true);
  });

  it('wrong HOST_DATA: the appraisal refuses, no token, nothing released', async () => {
    const { attest, cookie } = await kbsAttest(s, sim, await teeKey(), { hostData: 'ee'.repeat(32) });
    expect(attest.status).toBe(401);
    const body = await problem(attest);
    expect(body.code).toBe('appraisal_denied');
    expect(body.type).toBe('https://github.com/confidential-containers/kbs/errors/AttestationError');
    expect(body.detail).toContain('HOST_DATA');
    const resource = await fetch(`${s.url}/kbs/v0/resource/default/keys/db-password`, { headers: { cookie } });
    expect(resource.status).toBe(401);
    expectNothingReleased(s, await resource.text());
  });

  it('wrong HOST_DATA with no reference values: a token, but the release policy refuses', async () => {
    await withServer({ reference: false }, async (open) => {
      const tee = await teeKey();
      const { attest, cookie } = await kbsAttest(open, sim, tee, { hostData: 'ee'.repeat(32) });
      expect(attest.status).toBe(200);
      const resource = await fetch(`${open.url}/kbs/v0/resource/default/keys/db-password`, { headers: { cookie } });
      expect(resource.status).toBe(403);
      expect((await problem(resource.clone())).code).toBe('release_denied');
      expectNothingReleased(open, await resource.text());
    });
  });

  it('re-attest returns the session token; old evidence on a new challenge, or evidence for another key, is refused', async () => {
    const tee = await teeKey();
    const first = await kbsAttest(s, sim, tee);
    expect(first.attest.status).toBe(200);
    const { token } = (await first.attest.json()) as { token: string };
    const again = await post(`${s.url}/kbs/v0/attest`, attestation(first.nonce, tee.publicJwk, first.evidence), { cookie: first.cookie });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { token: string }).token).toBe(token);
    // The old evidence (bound to the old nonce) against a fresh challenge: with the old nonce, with the new one.
    const auth = await post(`${s.url}/kbs/v0/auth`, REQUEST);
    const { nonce } = (await auth.json()) as { nonce: string };
    const stale = await post(`${s.url}/kbs/v0/attest`, attestation(first.nonce, tee.publicJwk, first.evidence), { cookie: sessionCookie(auth) });
    expect(stale.status).toBe(401);
    expect((await problem(stale)).code).toBe('nonce_mismatch');
    const auth2 = await post(`${s.url}/kbs/v0/auth`, REQUEST);
    const nonce2 = ((await auth2.json()) as { nonce: string }).nonce;
    const replay = await post(`${s.url}/kbs/v0/attest`, attestation(nonce2, tee.publicJwk, first.evidence), { cookie: sessionCookie(auth2) });
    expect(replay.status).toBe(401);
    expect((await problem(replay)).code).toBe('report_data_mismatch');
    // A failed answer burns the challenge: the right evidence afterwards is refused too.
    const late = await post(`${s.url}/kbs/v0/attest`, attestation(nonce2, tee.publicJwk, await snpEvidence(sim, kbsReportData(nonce2, tee.publicJwk))), { cookie: sessionCookie(auth2) });
    expect((await problem(late)).code).toBe('nonce_replayed');
    expect(nonce).not.toBe(nonce2);
    // Evidence bound to another key cannot be used with this key.
    const other = await teeKey();
    const swapped = await kbsAttest(s, sim, tee, { bindTo: (n) => kbsReportData(n, other.publicJwk) });
    expect(swapped.attest.status).toBe(401);
  });

  it('expired nonce and expired token are refused', async () => {
    await withServer({ tokenTtlSeconds: 30 }, async (local) => {
      const tee = await teeKey();
      // Nonce expiry: answer after the 5-minute window.
      const auth = await post(`${local.url}/kbs/v0/auth`, REQUEST);
      const { nonce } = (await auth.json()) as { nonce: string };
      local.clock.now += 5 * 60_000 + 1;
      const late = await post(`${local.url}/kbs/v0/attest`, attestation(nonce, tee.publicJwk, await snpEvidence(sim, kbsReportData(nonce, tee.publicJwk))), { cookie: sessionCookie(auth) });
      expect(late.status).toBe(401);
      expect((await problem(late)).code).toBe('unknown_session');

      const { attest, cookie } = await kbsAttest(local, sim, tee);
      const { token } = (await attest.json()) as { token: string };
      local.clock.now += 31_000;
      const byCookie = await fetch(`${local.url}/kbs/v0/resource/default/keys/db-password`, { headers: { cookie } });
      expect(byCookie.status).toBe(401);
      const byBearer = await fetch(`${local.url}/kbs/v0/resource/default/keys/db-password`, { headers: { authorization: `Bearer ${token}` } });
      expect(byBearer.status).toBe(401);
      expect(await problem(byBearer.clone())).toMatchObject({ code: 'token_expired', type: 'https://github.com/confidential-containers/kbs/errors/TokenVerifierError' });
      expectNothingReleased(local, await byBearer.text());
    });
  });

  it('tampered token: a changed claim or signature is refused', async () => {
    const tee = await teeKey();
    const { attest } = await kbsAttest(s, sim, tee, { hostData: POLICY_HASH });
    const { token } = (await attest.json()) as { token: string };
    const [h, p, sig] = token.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const attacker = await teeKey();
    const forgedPayload = Buffer.from(JSON.stringify({ ...payload, 'tee-pubkey': attacker.publicJwk })).toString('base64url');
    const badSig = Buffer.from(sig!, 'base64url');
    badSig[0]! ^= 0xff;
    for (const [forged, code] of [
      [`${h}.${forgedPayload}.${sig}`, 'token_bad_signature'],
      [`${h}.${p}.${badSig.toString('base64url')}`, 'token_bad_signature'],
      [`${h}.${p}`, 'token_malformed'],
    ] as const) {
      const r = await fetch(`${s.url}/kbs/v0/resource/default/keys/db-password`, { headers: { authorization: `Bearer ${forged}` } });
      expect(r.status).toBe(401);
      expect((await problem(r.clone())).code).toBe(code);
      expectNothingReleased(s, await r.text());
    }
  });

  it('debug-enabled evidence is refused by the default appraisal policy', async () => {
    const { attest } = await kbsAttest(s, sim, await teeKey(), { debug: true });
    expect(attest.status).toBe(401);
    expect((await problem(attest)).detail).toContain('debugging');
  });

  it('TCB below the minimum is refused', async () => {
    const { attest } = await kbsAttest(s, sim, await teeKey(), { tcb: { ...GOOD_TCB, snp: 4 } });
    expect(attest.status).toBe(401);
    expect((await problem(attest)).detail).toContain('snp SPL 4 is below the minimum 5');
  });

  it('simulated evidence is refused unless the service trusts the simulator', async () => {
    await withServer({ trustSimulator: false }, async (strict) => {
      const { attest } = await kbsAttest(strict, sim, await teeKey());
      expect(attest.status).toBe(401);
      expect((await problem(attest)).code).toBe('simulator_not_trusted');
      expect(strict.logs.some((l) => l.includes('"decision":"deny"') && l.includes('simulator_not_trusted'))).toBe(true);
    });
  });

  it('Azure-style attest + secure key release: sha256(runtime data) binds REPORT_DATA; the secret is wrapped to x-ms-runtime.keys', async () => {
    const tee = await teeKey();
    const runtime = Buffer.from(JSON.stringify({ keys: [{ ...tee.publicJwk, kid: 'TpmEphemeralEncryptionKey', key_ops: ['encrypt'] }] }));
    const reportData = Buffer.alloc(64);
    createHash('sha256').update(runtime).digest().copy(reportData);
    const body = { evidence: await snpEvidence(sim, reportData), runtimeData: { data: runtime.toString('base64url'), dataType: 'JSON' } };
    const attest = await post(`${s.url}/attest/snp`, body);
    expect(attest.status).toBe(200);
    const { token } = (await attest.json()) as { token: string };
    expect((decodeJwt(token)['x-ms-runtime'] as { keys: JWK[] }).keys[0]!.kid).toBe('TpmEphemeralEncryptionKey');
    const release = await post(`${s.url}/release/default/keys/db-password`, { target: token });
    expect(release.status, await release.clone().text()).toBe(200);
    const { value } = (await release.json()) as { value: string };
    expect(Buffer.from((await compactDecrypt(value, tee.privateKey)).plaintext).toString()).toBe(SECRET);

    // Runtime data that does not hash to REPORT_DATA is refused.
    const other = { ...body, runtimeData: { data: Buffer.from('{"keys":[]}').toString('base64url'), dataType: 'JSON' } };
    const mismatch = await post(`${s.url}/attest/snp`, other);
    expect(mismatch.status).toBe(401);
    expect((await problem(mismatch)).code).toBe('runtime_data_mismatch');
    // No token, no release.
    const anonymous = await post(`${s.url}/release/default/keys/db-password`, {});
    expect(anonymous.status).toBe(401);
    expectNothingReleased(s, await anonymous.text());
  });

  it('SGX through the KBS flow: the SGX-only resource is released, the SNP-only one is not', async () => {
    const tee = await teeKey();
    const auth = await post(`${s.url}/kbs/v0/auth`, { ...REQUEST, tee: 'sgx' });
    const cookie = sessionCookie(auth);
    const { nonce } = (await auth.json()) as { nonce: string };
    const { quote, collateral } = await sim.sgxQuote({ reportData: kbsReportData(nonce, tee.publicJwk), mrenclave: Buffer.alloc(32, 0xaa), mrsigner: Buffer.alloc(32, 0xbb) });
    const attest = await post(`${s.url}/kbs/v0/attest`, attestation(nonce, tee.publicJwk, { quote: quote.toString('base64'), collateral }), { cookie });
    expect(attest.status, await attest.clone().text()).toBe(200);
    const claims = decodeJwt(((await attest.json()) as { token: string }).token);
    expect(claims).toMatchObject({ 'x-ms-attestation-type': 'sgx', 'x-ms-sgx-mrenclave': 'aa'.repeat(32), 'x-ms-sgx-mrsigner': 'bb'.repeat(32), 'x-confcom-simulated': true });
    const sgxOnly = await fetch(`${s.url}/kbs/v0/resource/other/keys/api-token`, { headers: { cookie } });
    expect(sgxOnly.status).toBe(200);
    const plain = await flattenedDecrypt((await sgxOnly.json()) as FlattenedJWE, tee.privateKey);
    expect(Buffer.from(plain.plaintext).toString()).toBe('other-repo-secret');
    expect((await fetch(`${s.url}/kbs/v0/resource/default/keys/db-password`, { headers: { cookie } })).status).toBe(403);
  });

  it('publishes health, JWKS and discovery; bad KBS requests are 401 AttestationError as trustee answers', async () => {
    expect(await (await fetch(`${s.url}/health`)).json()).toEqual({ status: 'ok', simulator: true });
    const jwks = (await (await fetch(`${s.url}/certs`)).json()) as { keys: JWK[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    expect(((await (await fetch(`${s.url}/.well-known/openid-configuration`)).json()) as { jwks_uri: string }).jwks_uri).toBe(`${ISSUER}/certs`);
    for (const version of ['9.0', '0.1.0', '0.3.0', '0.4.1']) {
      const badVersion = await post(`${s.url}/kbs/v0/auth`, { ...REQUEST, version });
      expect(badVersion.status).toBe(401);
      expect(await problem(badVersion)).toMatchObject({ code: 'kbs_version_unsupported', type: 'https://github.com/confidential-containers/kbs/errors/AttestationError' });
    }
    const unknownTee = await post(`${s.url}/kbs/v0/auth`, { ...REQUEST, tee: 'amd-sev-snp' });
    expect(unknownTee.status).toBe(401);
    expect((await problem(unknownTee)).code).toBe('tee_unsupported');
    // kbs.yaml's TEE names get a challenge; the ones we cannot verify are refused at attest, and the ones we
    // verify refuse evidence that is not theirs.
    for (const tee of ['az-tdx-vtpm', 'sample']) {
      const auth = await post(`${s.url}/kbs/v0/auth`, { ...REQUEST, tee });
      expect(auth.status).toBe(200);
      const { nonce } = (await auth.json()) as { nonce: string };
      const k = await teeKey();
      const r = await post(`${s.url}/kbs/v0/attest`, attestation(nonce, k.publicJwk, { anything: true }), { cookie: sessionCookie(auth) });
      expect(r.status).toBe(401);
      expect(await problem(r)).toMatchObject({ code: 'tee_unsupported', type: 'https://github.com/confidential-containers/kbs/errors/AttestationError' });
    }
    for (const tee of ['az-snp-vtpm', 'tdx']) {
      const auth = await post(`${s.url}/kbs/v0/auth`, { ...REQUEST, tee });
      const { nonce } = (await auth.json()) as { nonce: string };
      const k = await teeKey();
      const r = await post(`${s.url}/kbs/v0/attest`, attestation(nonce, k.publicJwk, { anything: true }), { cookie: sessionCookie(auth) });
      expect(r.status).toBe(401);
      expect((await problem(r)).type).toBe('https://github.com/confidential-containers/kbs/errors/AttestationError');
    }
    const traversal = await fetch(`${s.url}/kbs/v0/resource/default/keys/..%2F..%2Fetc`);
    expect([400, 404]).toContain(traversal.status);
  });
});
