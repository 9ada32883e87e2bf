/**
 * 50 guest agents at once against one confcom service: every one gets the secret, and the audit log
 * holds exactly 50 allowed releases. (Two replicas on Redis come with the shared store; this is the
 * single-process half of that check.) Also: the agent's API refuses to listen beyond loopback.
 *
 * KNOWN FAILING until issue 15's session store is merged: today's service sweeps sessions still
 * mid-flow on every /auth, so about 45 of the 50 agents get `kbs/resource: 401 (unauthenticated)` even
 * after their one re-attestation. `it.fails` keeps that visible: when the fix lands this test starts
 * failing, and `it.fails` becomes `it`.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulatedTee } from '../../src/attest/sim/index.js';
import { DEMO_RESOURCE_PATH, startLocalBroker, type LocalBroker } from '../../src/demo/broker.js';
import { SimulatedSnpProvider } from '../../src/guest/evidence/sim.js';
import { KbsClient } from '../../src/guest/kbs-client.js';
import { runConfcom } from '../helpers/cli.js';

const hostData = createHash('sha256').update('policy').digest();
const SECRET = Buffer.from('shared-secret');
let broker: LocalBroker;

beforeAll(async () => {
  broker = await startLocalBroker({ hostData: hostData.toString('hex'), secret: SECRET });
});
afterAll(() => broker.close());

describe('many guest agents', () => {
  it.fails('50 concurrent agents all get the secret; the audit log has exactly 50 releases', async () => {
    const tee = await createSimulatedTee();
    const agents = Array.from({ length: 50 }, () => new KbsClient({ url: broker.url, dialect: 'confcom-0.1', evidence: new SimulatedSnpProvider({ hostData, tee }), retry: { retries: 2, minTimeoutMs: 20 } }));
    const results = await Promise.allSettled(agents.map((a) => a.getResource(DEMO_RESOURCE_PATH)));
    const failures = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
    expect(failures).toEqual([]);
    expect(results.every((r) => r.status === 'fulfilled' && r.value.equals(SECRET))).toBe(true);
    expect(broker.decisions.filter((d) => d.fields.decision === 'allow')).toHaveLength(50);
  }, 60_000);

  it('refuses to serve the local API beyond loopback', async () => {
    const r = await runConfcom(['guest', 'serve', '--host', '0.0.0.0', '--evidence', 'simulated']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/loopback only/);
  });
});
