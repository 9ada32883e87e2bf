/**
 * `confcom kbs` against `confcom serve attestation` (two real processes over loopback HTTP): the admin
 * uploads a resource and a release policy with the Ed25519 key, then the client attests with the
 * software TEE and gets the resource decrypted; a VM whose HOST_DATA the policy does not name is refused
 * with trustee's error, and a wrong admin key is refused.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { runConfcom } from '../../helpers/cli.js';
import { startServeAttestation, type ServeProcess } from '../service/serve-process.js';

const HOST_DATA = 'ab'.repeat(32);

describe('confcom kbs (client and admin) against confcom serve attestation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'confcom-kbs-cli-'));
  const admin = generateKeyPairSync('ed25519');
  let serve: ServeProcess;
  let url = '';

  beforeAll(async () => {
    writeFileSync(join(dir, 'admin.pub'), admin.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'admin.key'), admin.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'other.key'), generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'secret.bin'), 'cli-secret-value');
    writeFileSync(
      join(dir, 'policy.json'),
      JSON.stringify({ version: '1.0.0', anyOf: [{ authority: 'https://kbs-cli.test', allOf: [{ claim: 'x-ms-sevsnpvm-hostdata', equals: HOST_DATA }] }] }),
    );
    serve = await startServeAttestation(['--trust-simulator', '--issuer', 'https://kbs-cli.test', '--secrets', join(dir, 'secrets'), '--admin-key', join(dir, 'admin.pub')]);
    url = serve.url;
  }, 40_000);
  afterAll(() => {
    serve?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a policy the KBS cannot parse (trustee answers 401 ParsePolicyError) is bad input, exit 2, with the parse detail', async () => {
    const rego = join(dir, 'policy.rego');
    writeFileSync(rego, 'package policy\n\ndefault allow = false\n');
    const r = await runConfcom(['kbs', '--url', url, 'set-resource-policy', '--policy-file', rego, '--auth-private-key', join(dir, 'admin.key')]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).not.toContain('error[unauthorized]');
    expect(r.stderr).toMatch(/error\[resource_policy_invalid\]: the KBS could not parse .*policy\.rego: policy: the decoded policy is not JSON/);
  });

  it('an unreachable KBS names the socket error, not "(TypeError)"', async () => {
    const r = await runConfcom(['kbs', '--url', 'http://127.0.0.1:1', 'attest', '--simulate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[peer_unreachable\]: .*\(bad port/);
    expect(r.stderr).not.toContain('TypeError');
  });

  it('set-resource, set-resource-policy, attest and get-resource', async () => {
    const wrongAdmin = await runConfcom(['kbs', '--url', url, 'set-resource', '--path', 'default/keys/app', '--resource-file', join(dir, 'secret.bin'), '--auth-private-key', join(dir, 'other.key')]);
    expect(wrongAdmin.code).toBe(1);
    expect(wrongAdmin.stderr).toContain('401 AdminAuth');

    const set = await runConfcom(['kbs', '--url', url, 'set-resource', '--path', 'default/keys/app', '--resource-file', join(dir, 'secret.bin'), '--auth-private-key', join(dir, 'admin.key')]);
    expect(set.code, set.stderr).toBe(0);
    const policy = await runConfcom(['kbs', '--url', url, 'set-resource-policy', '--policy-file', join(dir, 'policy.json'), '--auth-private-key', join(dir, 'admin.key')]);
    expect(policy.code, policy.stderr).toBe(0);

    const token = await runConfcom(['kbs', '--url', url, 'attest', '--simulate', '--host-data', HOST_DATA]);
    expect(token.code, token.stderr).toBe(0);
    const claims = decodeJwt(token.stdout.trim());
    expect(claims['x-ms-sevsnpvm-hostdata']).toBe(HOST_DATA);
    expect(claims['x-confcom-simulated']).toBe(true);

    const got = await runConfcom(['kbs', '--url', url, 'get-resource', '--simulate', '--host-data', HOST_DATA, '--path', 'default/keys/app']);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toBe('cli-secret-value');

    const refused = await runConfcom(['kbs', '--url', url, 'get-resource', '--simulate', '--host-data', 'cd'.repeat(32), '--path', 'default/keys/app']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('403 PolicyDeny');
    expect(refused.stdout).toBe('');
    expect(serve.stderr()).not.toContain('cli-secret-value');

    const noSource = await runConfcom(['kbs', '--url', url, 'attest']);
    expect(noSource.code).toBe(2);
  }, 60_000);
});
