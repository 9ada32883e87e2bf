/**
 * Azure's flow with a client that follows the confidential sidecar's request shapes: MAA "Attest
 * SevSnpVm" with the report as base64url JSON {SnpReport, VcekCertChain}, runtime data carrying the
 * sidecar's RSA key, init-time data = the pod policy; then Key Vault's key release with a policy in the
 * sidecar's importkeyconfig.json form, unwrapped here by CKM_RSA_AES_KEY_WRAP steps written in the test.
 * Every error path answers with a CloudError body and releases nothing.
 */
import { createDecipheriv, createHash, generateKeyPairSync, privateDecrypt, constants } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactVerify, createLocalJWKSet, decodeJwt, type JWK } from 'jose';
import { createSimulatedTee, type SimulatedTee } from '../../../src/attest/sim/index.js';
import { createAttestationServer, type AttestationServer } from '../../../src/attest/service/index.js';
import { SecretStore } from '../../../src/attest/kbs/secrets.js';
import { createLogger } from '../../../src/core/log.js';

const ISSUER = 'https://maa.test';
const POD_POLICY = Buffer.from('package policy\ndefault allow := true\n');
const HOST_DATA = createHash('sha256').update(POD_POLICY).digest();
const KEY_VALUE = Buffer.from('0123456789abcdef0123456789abcdef');

function pem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** The sidecar side: its RSA key, runtime data and the MAA request. */
async function sidecarRequest(sim: SimulatedTee, o: { hostData?: Buffer; initTime?: Buffer | null; runtimeOverride?: Buffer } = {}) {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = rsa.publicKey.export({ format: 'jwk' }) as JWK;
  const runtime = Buffer.from(JSON.stringify({ keys: [{ e: jwk.e, key_ops: ['encrypt'], kid: 'TpmEphemeralEncryptionKey', kty: 'RSA', n: jwk.n }] }));
  const reportData = Buffer.alloc(64);
  createHash('sha256').update(runtime).digest().copy(reportData);
  const { report, certs } = await sim.snpReport({ reportData, hostData: o.hostData ?? HOST_DATA, reportedTcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115 } });
  const maaReport = { SnpReport: b64url(report), VcekCertChain: b64url(certs.map(pem).join('')) };
  const body: Record<string, unknown> = {
    report: b64url(JSON.stringify(maaReport)),
    runtimeData: { data: b64url(o.runtimeOverride ?? runtime), dataType: 'JSON' },
    nonce: '8867526451',
  };
  if (o.initTime !== null) body.initTimeData = { data: b64url(o.initTime ?? POD_POLICY), dataType: 'Binary' };
  return { body, privateKey: rsa.privateKey };
}

/** CKM_RSA_AES_KEY_WRAP unwrap: RSA-OAEP(SHA-1) of an AES-256 key, then RFC 5649 unwrap of the target. */
function unwrap(ciphertext: Buffer, privateKey: ReturnType<typeof generateKeyPairSync>['privateKey'], oaepHash = 'sha1'): Buffer {
  const aes = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, ciphertext.subarray(0, 256));
  const d = createDecipheriv('id-aes256-wrap-pad', aes, Buffer.from('A65959A6', 'hex'));
  return Buffer.concat([d.update(ciphertext.subarray(256)), d.final()]);
}

describe('Azure: MAA attest (SevSnpVm) and Key Vault secure key release, sidecar shapes', () => {
  let sim: SimulatedTee;
  let server: AttestationServer;
  let url = '';
  const logs: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'confcom-azure-'));

  beforeAll(async () => {
    sim = await createSimulatedTee();
    mkdirSync(join(dir, 'keys', 'mykey'), { recursive: true });
    writeFileSync(join(dir, 'keys', 'mykey', 'current'), KEY_VALUE);
    writeFileSync(join(dir, 'keys', 'mykey', 'v2'), KEY_VALUE);
    // importkeyconfig.json as the sidecar's tools write it.
    writeFileSync(
      join(dir, 'keys', 'mykey', '.release-policy.json'),
      JSON.stringify({
        key: { kid: 'mykey', kty: 'oct-HSM', authority: { endpoint: 'maa.test' }, mhsm: { endpoint: 'hsm.test', api_version: 'api-version=7.3' } },
        claims: [
          [
            { claim: 'x-ms-attestation-type', equals: 'sevsnpvm' },
            { claim: 'x-ms-compliance-status', equals: 'azure-compliant-uvm' },
            { claim: 'x-ms-sevsnpvm-is-debuggable', equals: false },
            { claim: 'x-ms-sevsnpvm-hostdata', equals: HOST_DATA.toString('hex') },
          ],
        ],
      }),
    );
    server = await createAttestationServer({
      issuer: ISSUER, trustSimulator: true, secrets: new SecretStore(dir),
      logger: createLogger({ level: 'debug', json: true, write: (l) => logs.push(l) }),
    });
    url = await server.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown) => fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('attests in MAA form, and releases the key wrapped to the sidecar key in a JWS', async () => {
    const { body, privateKey } = await sidecarRequest(sim);
    const attest = await post('/attest/SevSnpVm?api-version=2020-10-01', body);
    expect(attest.status, await attest.clone().text()).toBe(200);
    const { token } = (await attest.json()) as { token: string };
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: ISSUER,
      'x-ms-attestation-type': 'sevsnpvm',
      'x-ms-compliance-status': 'azure-compliant-uvm',
      'x-ms-sevsnpvm-hostdata': HOST_DATA.toString('hex'),
      'x-ms-sevsnpvm-is-debuggable': false,
      nonce: '8867526451',
      'x-ms-inittime': {},
    });
    expect(typeof claims['x-ms-sevsnpvm-guestsvn']).toBe('number');
    expect(typeof claims['x-ms-sevsnpvm-vmpl']).toBe('number');
    expect((claims['x-ms-runtime'] as { keys: JWK[] }).keys[0]!.kid).toBe('TpmEphemeralEncryptionKey');

    for (const path of ['/keys/mykey/release?api-version=7.3', '/keys/mykey/v2/release?api-version=7.3']) {
      const release = await post(path, { target: token });
      expect(release.status, await release.clone().text()).toBe(200);
      const { value } = (await release.json()) as { value: string };
      expect(value).not.toContain(KEY_VALUE.toString('base64url'));
      const jwks = createLocalJWKSet((await (await fetch(`${url}/certs`)).json()) as { keys: JWK[] });
      const { payload } = await compactVerify(value, jwks);
      const released = JSON.parse(Buffer.from(payload).toString()) as { response: { key: { key: { kty: string; key_hsm: string }; release_policy: { data: string } } } };
      expect(released.response.key.key.kty).toBe('oct-HSM');
      const keyHsm = JSON.parse(Buffer.from(released.response.key.key.key_hsm, 'base64url').toString()) as { header: { enc: string }; ciphertext: string };
      expect(keyHsm.header.enc).toBe('CKM_RSA_AES_KEY_WRAP');
      expect(unwrap(Buffer.from(keyHsm.ciphertext, 'base64url'), privateKey)).toEqual(KEY_VALUE);
      expect(() => unwrap(Buffer.from(keyHsm.ciphertext, 'base64url'), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)).toThrow();
    }
    const sha256 = await post('/keys/mykey/release?api-version=7.3', { target: token, enc: 'RSA_AES_KEY_WRAP_256' });
    const jws = ((await sha256.json()) as { value: string }).value;
    const hsm = JSON.parse(Buffer.from((JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as { response: { key: { key: { key_hsm: string } } } }).response.key.key.key_hsm, 'base64url').toString()) as { ciphertext: string };
    expect(unwrap(Buffer.from(hsm.ciphertext, 'base64url'), privateKey, 'sha256')).toEqual(KEY_VALUE);
  });

  it('error paths: CloudError bodies with MAA / Key Vault codes, and nothing released', async () => {
    const expectCloudError = async (r: Response, status: number, code: string) => {
      expect(r.status).toBe(status);
      const body = (await r.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe(code);
      expect(typeof body.error.message).toBe('string');
      expect(JSON.stringify(body)).not.toContain(KEY_VALUE.toString());
    };
    const good = await sidecarRequest(sim);
    await expectCloudError(await post('/attest/SevSnpVm', good.body), 400, 'MissingApiVersionParameter');
    await expectCloudError(await post('/attest/SevSnpVm?api-version=2020-10-01', { ...good.body, report: '!!' }), 400, 'InvalidParameter');
    // The pod policy as init-time data does not match this VM's HOST_DATA (tampered policy).
    const tampered = await sidecarRequest(sim, { initTime: Buffer.from('package policy\ndefault allow := false\n') });
    await expectCloudError(await post('/attest/SevSnpVm?api-version=2020-10-01', tampered.body), 400, 'AttestationFailure');
    const swapped = await sidecarRequest(sim, { runtimeOverride: Buffer.from('{"keys":[]}') });
    await expectCloudError(await post('/attest/SevSnpVm?api-version=2020-10-01', swapped.body), 400, 'AttestationFailure');

    // A VM booted with another policy gets a token, but the key's release policy refuses it.
    const other = await sidecarRequest(sim, { hostData: Buffer.alloc(32, 7), initTime: null });
    const attest = await post('/attest/SevSnpVm?api-version=2020-10-01', other.body);
    expect(attest.status, await attest.clone().text()).toBe(200);
    const { token } = (await attest.json()) as { token: string };
    await expectCloudError(await post('/keys/mykey/release?api-version=7.3', { target: token }), 403, 'Forbidden');
    await expectCloudError(await post('/keys/nokey/release?api-version=7.3', { target: token }), 404, 'KeyNotFound');
    await expectCloudError(await post('/keys/mykey/release?api-version=7.3', {}), 400, 'BadParameter');
    await expectCloudError(await post('/keys/mykey/release?api-version=7.3', { target: `${token}x` }), 400, 'BadParameter');
    await expectCloudError(await post('/keys/mykey/release', { target: token }), 400, 'MissingApiVersionParameter');
    await expectCloudError(await post('/keys/mykey/release?api-version=7.3', { target: token, enc: 'RSA1_5' }), 400, 'BadParameter');
    for (const l of logs) expect(l).not.toContain(KEY_VALUE.toString());
  });
});
