/**
 * The agent against an emulated configfs-tsm tree and a KBS written from trustee's protocol document:
 * the exact inblob written is SHA-384 of the JCS runtime data {nonce, tee-pubkey, additional-evidence} the KBS saw, the
 * outblob read is the report the KBS verified, and generation races are retried.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSimulatedTee, type SimulatedTee } from '../../src/attest/sim/index.js';
import { ConfigfsTsmProvider } from '../../src/guest/evidence/configfs-tsm.js';
import { parseCertTable } from '../../src/guest/evidence/cert-table.js';
import { KbsClient } from '../../src/guest/kbs-client.js';
import { GuestFlowError } from '../../src/guest/errors.js';
import { jcs, startFakeKbs, type FakeKbs } from './fake-kbs.js';
import { tsmEmulator, type TsmEmulator } from './tsm-emulator.js';

let tee: SimulatedTee;
let kbs: FakeKbs;
let root: string;
let emulator: TsmEmulator;

beforeAll(async () => {
  tee = await createSimulatedTee();
  kbs = await startFakeKbs();
  kbs.secrets.set('default/key/app', Buffer.from('the workload key'));
});
afterAll(() => kbs.close());
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'confcom-tsm-'));
  emulator = tsmEmulator(root, tee);
  return () => rm(root, { recursive: true, force: true });
});

describe('configfs-tsm evidence with the KBS flow', () => {
  it('writes REPORT_DATA = SHA-384(JCS(runtime-data + additional-evidence)) to inblob and sends the outblob it read', async () => {
    const client = new KbsClient({ url: kbs.url, evidence: new ConfigfsTsmProvider({ root, fs: emulator.fs }), retry: { retries: 0 } });
    kbs.seen.length = 0;
    const secret = await client.getResource('default/key/app');
    expect(secret.toString()).toBe('the workload key');

    const attest = kbs.seen.find((s) => s.path === '/kbs/v0/attest')?.body as { 'runtime-data': Record<string, unknown>; 'tee-evidence': { primary_evidence: { report: string; certs: string[] } } };
    const auth = kbs.seen.find((s) => s.path === '/kbs/v0/auth')?.body as Record<string, unknown>;
    expect(auth).toEqual({ version: '0.4.0', tee: 'snp', 'extra-params': '' });
    const runtime = attest['runtime-data'];
    expect(Object.keys(runtime).sort()).toEqual(['nonce', 'tee-pubkey']);
    const expected = Buffer.alloc(64);
    expect(attest['tee-evidence']).toMatchObject({ additional_evidence: '' });
    createHash('sha384').update(jcs({ ...runtime, 'additional-evidence': '' })).digest().copy(expected);
    expect(emulator.inblobs).toHaveLength(1);
    expect(emulator.inblobs[0].equals(expected)).toBe(true);
    expect(emulator.inblobs[0].subarray(48).equals(Buffer.alloc(16))).toBe(true); // SHA-384 is 48 bytes, zero-padded
    // the report sent is the outblob read, with the chain from auxblob in VCEK, ASK, ARK order
    const sent = attest['tee-evidence'].primary_evidence;
    expect(Buffer.from(sent.report, 'base64').equals(emulator.outblobs[0])).toBe(true);
    expect(sent.certs).toHaveLength(3);
    // the private key never went out: the public JWK only
    expect(runtime['tee-pubkey']).not.toHaveProperty('d');
    expect(await emulator.leftovers()).toEqual([]);
  });

  it('repeats the request when generation moved under it (another writer), with a fresh entry', async () => {
    const provider = new ConfigfsTsmProvider({ root, fs: emulator.fs });
    emulator.raceNext = 1;
    const data = Buffer.alloc(64, 7);
    const evidence = await provider.evidence(data);
    expect(emulator.entries).toHaveLength(2);
    expect(new Set(emulator.entries).size).toBe(2);
    expect(emulator.inblobs.every((b) => b.equals(data))).toBe(true);
    expect(evidence.report.equals(emulator.outblobs[1])).toBe(true);
  });

  it('gives up after the configured attempts when the entry keeps changing', async () => {
    const provider = new ConfigfsTsmProvider({ root, fs: { ...emulator.fs, writeFile: async (p, d) => { emulator.raceNext = 1; await emulator.fs.writeFile(p, d); } }, attempts: 3 });
    await expect(provider.evidence(Buffer.alloc(64))).rejects.toMatchObject({ code: 'tsm_generation_race', step: 'evidence' });
    expect(emulator.entries).toHaveLength(3);
  });

  it('names a missing configfs-tsm clearly and reports the TDX provider as tdx', async () => {
    await expect(new ConfigfsTsmProvider({ root: join(root, 'absent') }).evidence(Buffer.alloc(64))).rejects.toMatchObject({ code: 'tsm_unavailable' });
    const tdx = new ConfigfsTsmProvider({ root, fs: tsmEmulator(root, tee, { provider: 'tdx_guest' }).fs });
    const evidence = await tdx.evidence(Buffer.alloc(64, 1));
    expect(evidence.tee).toBe('tdx');
    expect(Object.keys(evidence.wire)).toEqual(['quote']);
  });

  it('parses the auxblob certificate table by GUID', async () => {
    const provider = new ConfigfsTsmProvider({ root, fs: emulator.fs });
    await provider.evidence(Buffer.alloc(64));
    // the emulator's table round-trips; a table without its terminator is refused
    const { buildCertTable } = await import('../../src/guest/evidence/cert-table.js');
    const table = buildCertTable([{ kind: 'ark', der: Buffer.from([1, 2]) }, { kind: 'vcek', der: Buffer.from([3]) }]);
    expect(parseCertTable(table).map((e) => e.kind)).toEqual(['ark', 'vcek']);
    expect(parseCertTable(table)[0].guid).toBe('c0b406a4-a803-4952-9743-3fb6014cd0ae');
    expect(() => parseCertTable(table.subarray(0, 24))).toThrow(RangeError);
  });
});

describe('KBS client failures', () => {
  const client = () => new KbsClient({ url: kbs.url, evidence: new ConfigfsTsmProvider({ root, fs: emulator.fs }), retry: { retries: 3, minTimeoutMs: 5, maxTimeoutMs: 10 } });

  it('retries 503 with backoff and then succeeds', async () => {
    kbs.failNext.set('/kbs/v0/auth', 2);
    const secret = await client().getResource('default/key/app');
    expect(secret.toString()).toBe('the workload key');
    expect(kbs.failNext.get('/kbs/v0/auth')).toBe(0);
  });

  it('re-attests once when the KBS lost the session (401 on resource)', async () => {
    const c = client();
    await c.attest();
    kbs.dropSessions();
    kbs.seen.length = 0;
    expect((await c.getResource('default/key/app')).toString()).toBe('the workload key');
    expect(kbs.seen.map((s) => s.path)).toEqual(['/kbs/v0/resource/default/key/app', '/kbs/v0/auth', '/kbs/v0/attest', '/kbs/v0/resource/default/key/app']);
  });

  it('names the failed step, with no secret, cookie or nonce in the error', async () => {
    const c = client();
    const error = (await c.getResource('default/key/absent').catch((e: unknown) => e)) as GuestFlowError;
    expect(error).toBeInstanceOf(GuestFlowError);
    expect(error.step).toBe('kbs/resource');
    expect(error.status).toBe(404);
    expect(error.message).toMatch(/^kbs\/resource: the service answered 404/);
    const cookie = kbs.seen.at(-1)?.cookie as string;
    const nonce = (kbs.seen.find((s) => s.path === '/kbs/v0/attest')?.body as { 'runtime-data': { nonce: string } })['runtime-data'].nonce;
    const shown = JSON.stringify({ m: error.message, d: error.details, h: error.hint });
    expect(cookie.length).toBeGreaterThan(8);
    for (const secretish of [cookie, nonce, 'the workload key']) expect(shown).not.toContain(secretish);
  });

  it('refuses a resource wrapped to another key (decrypt step)', async () => {
    const { generateKeyPair, exportJWK } = await import('jose');
    const other = await exportJWK((await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256' })).publicKey);
    kbs.wrongKey = { ...other, alg: 'ECDH-ES+A256KW' };
    try {
      await expect(client().getResource('default/key/app')).rejects.toMatchObject({ step: 'decrypt', code: 'jwe_decrypt_failed' });
    } finally {
      kbs.wrongKey = undefined;
    }
  });

  it('stops at kbs/attest when the evidence does not bind the nonce, without retrying a 401', async () => {
    const lying = new ConfigfsTsmProvider({ root, fs: emulator.fs });
    const c = new KbsClient({ url: kbs.url, evidence: { name: 'lying', tee: 'snp', simulated: false, evidence: (d) => lying.evidence(Buffer.from(d).fill(0)) }, retry: { retries: 3, minTimeoutMs: 5 } });
    kbs.seen.length = 0;
    await expect(c.attest()).rejects.toMatchObject({ step: 'kbs/attest', status: 401, code: 'unauthorized' });
    expect(kbs.seen.filter((s) => s.path === '/kbs/v0/attest')).toHaveLength(1);
  });

  it('names an unreachable KBS as peer_unreachable after its retries', async () => {
    const c = new KbsClient({ url: 'http://127.0.0.1:1', evidence: new ConfigfsTsmProvider({ root, fs: emulator.fs }), retry: { retries: 1, minTimeoutMs: 5 } });
    await expect(c.attest()).rejects.toMatchObject({ step: 'kbs/auth', code: 'peer_unreachable' });
  });
});
