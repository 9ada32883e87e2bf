/**
 * The Azure SKR flow against in-test fakes built from the public request shapes: a MAA that takes
 * {report: b64url(JSON {SnpReport, VcekCertChain}), runtimeData {data, dataType: JSON}}, checks that
 * SHA-256(runtime data) is the first half of REPORT_DATA and answers {token}; and a Key Vault that
 * releases a key as a JWS whose key_hsm holds RSA-OAEP(tmp AES key) || AES-KWP(tmp key, key).
 * Driven through the local SKR API (POST /attest/maa, POST /key/release).
 */
import { createCipheriv, createHash, publicEncrypt, randomBytes, constants, createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { SignJWT, decodeJwt, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySnpReport } from '../../src/attest/verify.js';
import { AzureSkrClient } from '../../src/guest/azure-client.js';
import { createGuestApi } from '../../src/guest/api.js';
import { SimulatedSnpProvider } from '../../src/guest/evidence/sim.js';

const KEY = randomBytes(32);
let server: Server;
let url: string;
const seen: { path: string; auth?: string; body: Record<string, unknown> }[] = [];
/** What the fake Key Vault names in `request.enc`, and the OAEP hash it really wraps with. */
const akv: { enc?: string; hash: string } = { enc: 'CKM_RSA_AES_KEY_WRAP', hash: 'sha1' };
/** The sidecar's reading of `enc` (confidential-sidecar-containers pkg/skr/akv.go rsaAESKeyUnwrap). */
const OAEP_HASH: Record<string, string> = { CKM_RSA_AES_KEY_WRAP: 'sha1', RSA_AES_KEY_WRAP_256: 'sha256', RSA_AES_KEY_WRAP_384: 'sha384' };

beforeAll(async () => {
  const signer = await generateKeyPair('ES256');
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      void (async () => {
        const body = JSON.parse(text) as Record<string, unknown>;
        const u = new URL(req.url ?? '/', 'http://x');
        seen.push({ path: `${u.pathname}?${u.searchParams.toString()}`, auth: req.headers.authorization, body });
        const send = (status: number, value: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(value)); };
        if (u.pathname === '/attest/SevSnpVm') {
          const report = JSON.parse(Buffer.from(body.report as string, 'base64url').toString()) as { SnpReport: string; VcekCertChain: string };
          const runtime = body.runtimeData as { data: string; dataType: string };
          const pems = Buffer.from(report.VcekCertChain, 'base64url').toString().match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
          const claims = await verifySnpReport(Buffer.from(report.SnpReport, 'base64url'), { certs: pems.map((p) => Buffer.from(p)), trustSimulator: true });
          const want = createHash('sha256').update(Buffer.from(runtime.data, 'base64url')).digest('hex');
          if (runtime.dataType !== 'JSON' || claims.reportData.slice(0, 64) !== want) return send(400, { error: { code: 'InvalidParameter', message: 'runtime data mismatch' } });
          const token = await new SignJWT({ 'x-ms-runtime': JSON.parse(Buffer.from(runtime.data, 'base64url').toString()) as object, 'x-ms-sevsnpvm-hostdata': claims.hostData }).setProtectedHeader({ alg: 'ES256' }).sign(signer.privateKey);
          return send(200, { token });
        }
        if (/^\/keys\/app-key\/v1\/release$/.test(u.pathname)) {
          if (req.headers.authorization !== 'Bearer aad-token') return send(401, { error: { code: 'Unauthorized' } });
          const maa = decodeJwt(body.target as string) as unknown as { 'x-ms-runtime': { keys: JWK[] } };
          const rsa = createPublicKey({ key: maa['x-ms-runtime'].keys[0], format: 'jwk' });
          const tmp = randomBytes(32);
          const head = publicEncrypt({ key: rsa, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: akv.hash }, tmp);
          const c = createCipheriv('id-aes256-wrap-pad', tmp, Buffer.from('a65959a6', 'hex'));
          const wrapped = Buffer.concat([head, c.update(KEY), c.final()]);
          const keyHsm = Buffer.from(JSON.stringify({ schema_version: '1.0', header: { alg: 'dir', enc: akv.enc }, ciphertext: wrapped.toString('base64url') })).toString('base64url');
          const value = await new SignJWT({ request: akv.enc === undefined ? {} : { enc: akv.enc }, response: { key: { key: { kty: 'oct-HSM', key_hsm: keyHsm } } } }).setProtectedHeader({ alg: 'ES256' }).sign(signer.privateKey);
          return send(200, { value });
        }
        return send(404, { error: { code: 'NotFound' } });
      })().catch(() => {
        res.writeHead(500);
        res.end();
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('Azure SKR flow', () => {
  const evidence = new SimulatedSnpProvider();
  const api = () => createGuestApi({ evidence, azure: new AzureSkrClient({ evidence, retry: { retries: 0 } }) });

  it('attests to MAA with the runtime key bound in REPORT_DATA', async () => {
    const app = api();
    const res = await app.inject({ method: 'POST', url: '/attest/maa', payload: { maa_endpoint: url, runtime_data: Buffer.from('{"purpose":"test"}').toString('base64') } });
    expect(res.statusCode).toBe(200);
    const token = (res.json() as { token: string }).token;
    const payload = decodeJwt(token) as unknown as { 'x-ms-runtime': { purpose: string; keys: JWK[] } };
    expect(payload['x-ms-runtime'].purpose).toBe('test');
    expect(payload['x-ms-runtime'].keys[0]).toMatchObject({ kty: 'RSA', kid: 'confcom-guest', key_ops: ['encrypt'] });
    expect(payload['x-ms-runtime'].keys[0]).not.toHaveProperty('d');
    expect(seen.at(-1)?.path).toBe('/attest/SevSnpVm?api-version=2022-08-01');
    await app.close();
  });

  it('releases a key from Key Vault (CKM_RSA_AES_KEY_WRAP) and answers it as a JWK', async () => {
    const app = api();
    const res = await app.inject({ method: 'POST', url: '/key/release', payload: { maa_endpoint: url, akv_endpoint: url, kid: 'app-key/v1', access_token: 'aad-token' } });
    expect(res.statusCode).toBe(200);
    expect(JSON.parse((res.json() as { key: string }).key)).toEqual({ kty: 'oct', k: KEY.toString('base64url') });
    expect(seen.at(-1)).toMatchObject({ path: '/keys/app-key/v1/release?api-version=7.3', auth: 'Bearer aad-token' });
    const refused = await app.inject({ method: 'POST', url: '/key/release', payload: { maa_endpoint: url, akv_endpoint: url, kid: 'app-key/v1', access_token: 'wrong' } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ step: 'key/release', code: 'unauthorized' });
    expect(refused.body).not.toContain('wrong');
    const bad = await app.inject({ method: 'POST', url: '/key/release', payload: { maa_endpoint: url } });
    expect(bad.statusCode).toBe(400);
    await app.close();
  });

  it.each(Object.entries(OAEP_HASH))('unwraps key_hsm with the OAEP hash request.enc names: %s = %s', async (enc, hash) => {
    Object.assign(akv, { enc, hash });
    const app = api();
    try {
      const res = await app.inject({ method: 'POST', url: '/key/release', payload: { maa_endpoint: url, akv_endpoint: url, kid: 'app-key/v1', access_token: 'aad-token' } });
      expect(res.statusCode, res.body).toBe(200);
      expect(JSON.parse((res.json() as { key: string }).key)).toEqual({ kty: 'oct', k: KEY.toString('base64url') });
    } finally {
      Object.assign(akv, { enc: 'CKM_RSA_AES_KEY_WRAP', hash: 'sha1' });
      await app.close();
    }
  });

  it('defaults to CKM_RSA_AES_KEY_WRAP (SHA-1) without request.enc, and refuses a wrap whose hash is not the one named', async () => {
    const app = api();
    const release = () => app.inject({ method: 'POST', url: '/key/release', payload: { maa_endpoint: url, akv_endpoint: url, kid: 'app-key/v1', access_token: 'aad-token' } });
    try {
      Object.assign(akv, { enc: undefined, hash: 'sha1' });
      expect((await release()).statusCode).toBe(200);
      Object.assign(akv, { enc: 'CKM_RSA_AES_KEY_WRAP', hash: 'sha256' });
      const mismatched = await release();
      expect(mismatched.statusCode).toBe(502);
      expect(mismatched.json()).toMatchObject({ step: 'decrypt', code: 'key_unwrap_failed' });
      Object.assign(akv, { enc: 'RSA_AES_KEY_WRAP_512', hash: 'sha512' });
      expect((await release()).json()).toMatchObject({ step: 'key/release', code: 'peer_response_invalid' });
    } finally {
      Object.assign(akv, { enc: 'CKM_RSA_AES_KEY_WRAP', hash: 'sha1' });
      await app.close();
    }
  });
});
