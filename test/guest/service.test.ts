/**
 * The agent against confcom's own attestation service (trustee's KBS 0.4.0 form), on the
 * software TEE: a VM booted with the policy's HOST_DATA gets the secret through the KBS flow, the local
 * CDH API and the one-shot CLI (file mode 0400); a VM with another HOST_DATA is refused at kbs/resource
 * and nothing is released.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalBroker, DEMO_RESOURCE_PATH, type LocalBroker } from '../../src/demo/broker.js';
import { SimulatedSnpProvider } from '../../src/guest/evidence/sim.js';
import { KbsClient } from '../../src/guest/kbs-client.js';
import { AzureSkrClient } from '../../src/guest/azure-client.js';
import { createGuestApi } from '../../src/guest/api.js';
import { writeSecretFile } from '../../src/guest/oneshot.js';
import { runConfcom } from '../helpers/cli.js';

const hostData = createHash('sha256').update('the generated policy').digest('hex');
const SECRET = Buffer.from('s3cr3t-demo-value');
const APP_KEY = Buffer.from('0123456789abcdef0123456789abcdef');
let broker: LocalBroker;
let dir: string;

beforeAll(async () => {
  broker = await startLocalBroker({ hostData, secret: SECRET, more: { 'keys/app-key/v1': APP_KEY } });
  dir = await mkdtemp(join(tmpdir(), 'confcom-guest-'));
});
afterAll(async () => {
  await broker.close();
  await rm(dir, { recursive: true, force: true });
});

const client = (hd: string) => new KbsClient({ url: broker.url, evidence: new SimulatedSnpProvider({ hostData: Buffer.from(hd, 'hex') }), retry: { retries: 0 } });

describe('guest agent with the confcom attestation service', () => {
  it('releases the secret to the VM running the policy, and refuses another policy', async () => {
    expect((await client(hostData).getResource(DEMO_RESOURCE_PATH)).equals(SECRET)).toBe(true);
    const other = createHash('sha256').update('a tampered policy').digest('hex');
    const error = await client(other).getResource(DEMO_RESOURCE_PATH).catch((e: unknown) => e);
    expect(error).toMatchObject({ step: 'kbs/resource', status: 403 });
    expect(JSON.stringify(error)).not.toContain(SECRET.toString());
    const releases = broker.decisions.map((d) => d.fields.decision);
    expect(releases).toEqual(['allow', 'deny']);
  });

  it('serves CDH resources on loopback', async () => {
    const evidence = new SimulatedSnpProvider({ hostData: Buffer.from(hostData, 'hex') });
    const app = createGuestApi({ evidence, kbs: new KbsClient({ url: broker.url, evidence }) });
    try {
      const ok = await app.inject({ method: 'GET', url: `/cdh/resource/${DEMO_RESOURCE_PATH}` });
      expect(ok.statusCode).toBe(200);
      expect(ok.rawPayload.equals(SECRET)).toBe(true);
      const missing = await app.inject({ method: 'GET', url: '/cdh/resource/default/key/absent' });
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toMatchObject({ step: 'kbs/resource', code: 'not_found' });
      const status = await app.inject({ method: 'GET', url: '/status' });
      expect(status.json()).toEqual({ status: 'ok', evidence: 'simulated', tee: 'snp', simulated: true });
    } finally {
      await app.close();
    }
  });

  it('writes one-shot secrets with mode 0400 and never over an existing file', async () => {
    const file = join(dir, 'secret');
    await writeSecretFile(file, SECRET);
    expect((await stat(file)).mode & 0o777).toBe(0o400);
    expect((await readFile(file)).equals(SECRET)).toBe(true);
  });

  it('runs `confcom guest get-resource -o` as an init container would', async () => {
    const file = join(dir, 'cli-secret');
    const result = await runConfcom(['guest', 'get-resource', DEMO_RESOURCE_PATH, '--kbs', broker.url, '--evidence', 'simulated', '--sim-host-data', hostData, '-o', file]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/INSECURE/);
    expect(result.stderr).toContain(`released ${DEMO_RESOURCE_PATH}`);
    expect(result.stdout + result.stderr).not.toContain(SECRET.toString());
    expect((await stat(file)).mode & 0o777).toBe(0o400);
    expect((await readFile(file)).equals(SECRET)).toBe(true);
    const refused = await runConfcom(['guest', 'get-resource', DEMO_RESOURCE_PATH, '--kbs', broker.url, '--evidence', 'simulated', '--sim-host-data', '00'.repeat(32), '--retries', '0']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/kbs\/resource: the service answered 403/);
    expect(refused.stdout).toBe('');
  });

  it('Azure flow end to end: MAA attest and Key Vault release from the service, key_hsm unwrapped by the guest (CKM_RSA_AES_KEY_WRAP, SHA-1 OAEP)', async () => {
    const release = async (hd: string) => {
      const evidence = new SimulatedSnpProvider({ hostData: Buffer.from(hd, 'hex') });
      const app = createGuestApi({ evidence, azure: new AzureSkrClient({ evidence, retry: { retries: 0 } }) });
      try {
        return await app.inject({ method: 'POST', url: '/key/release', payload: { maa_endpoint: broker.url, akv_endpoint: broker.url, kid: 'app-key/v1' } });
      } finally {
        await app.close();
      }
    };
    const before = broker.decisions.length;
    const ok = await release(hostData);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(JSON.parse((ok.json() as { key: string }).key)).toEqual({ kty: 'oct', k: APP_KEY.toString('base64url') });
    const refused = await release(createHash('sha256').update('a tampered policy').digest('hex'));
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ step: 'key/release', code: 'forbidden' });
    expect(refused.body).not.toContain(APP_KEY.toString('base64url'));
    expect(broker.decisions.slice(before).map((d) => [d.fields.endpoint, d.fields.decision])).toEqual([['keys/release', 'allow'], ['keys/release', 'deny']]);
  });
});
