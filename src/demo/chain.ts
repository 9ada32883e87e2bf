/**
 * The local end-to-end chain behind `confcom demo` (and `npm start`), on built-in defaults:
 *   1. write the built-in image as an OCI layout, pin each layer (tar + tarfs index, dm-verity);
 *   2. build the pod's policy (the demo's rules + policy_data pinning process and layers) and HOST_DATA;
 *   3. the agent side: SetPolicy checked against HOST_DATA, the container allowed, a tampered one denied
 *      with the field that broke the policy;
 *   4. the attestation side, on the software TEE (INSECURE, simulation only): an SEV-SNP report binding
 *      HOST_DATA, verified (simulator trusted explicitly) and appraised against the policy hash.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PolicyEnforcer } from '../agent/enforcer.js';
import { explainDenial } from '../agent/explain.js';
import { createLogger } from '../core/log.js';
import { pinLayer } from '../verity/layer.js';
import { createSimulatedTee } from '../attest/sim/index.js';
import { verifySnpReport } from '../attest/verify.js';
import { appraise } from '../attest/appraisal/index.js';
import { writeSampleImage } from './sample-image.js';

export interface DemoStep {
  step: string;
  ok: boolean;
  detail: string;
}


const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

async function* chunks(data: Buffer): AsyncIterable<Uint8Array> {
  for (let i = 0; i < data.length; i += 65536) yield data.subarray(i, i + 65536);
}

/** The CreateContainerRequest the Kata runtime sends for the demo container (shape of a real agent request). */
function createContainerRequest(args: string[], env: string[], pins: string[]): Record<string, unknown> {
  return {
    container_id: 'c0ffee',
    exec_id: 'c0ffee',
    string_user: null,
    devices: [],
    storages: pins.map((pin, i) => ({
      driver: 'blk',
      driver_options: [],
      source: `0001:00:0${i + 1}.0`,
      fstype: 'tar',
      options: ['ro', 'io.katacontainers.fs-opt.block_device=file', 'io.katacontainers.fs-opt.is-layer', `io.katacontainers.fs-opt.root-hash=${pin}`],
      mount_point: `/run/kata-containers/sandbox/layers/${i}`,
      fs_group: null,
    })),
    OCI: { Version: '1.1.0', Process: { Args: args, Env: env, Cwd: '/app' }, Mounts: [], Annotations: {} },
    sandbox_pidns: false,
  };
}

export async function runDemo(): Promise<{ image: string; layerPins: string[]; hostData: string; steps: DemoStep[] }> {
  const steps: DemoStep[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'confcom-demo-'));
  try {
    const image = await writeSampleImage(dir);
    const layerPins: string[] = [];
    for (const tar of image.layerTars) layerPins.push((await pinLayer(chunks(tar))).rootHash);
    steps.push({ step: 'pin image layers (tar + tarfs index, dm-verity SHA-256)', ok: true, detail: layerPins.join(', ') });

    const rules = await readFile(fileURLToPath(new URL('./demo-policy.rego', import.meta.url)), 'utf8');
    const args = ['/app/server', '--port', '8080'];
    const env = ['PATH=/usr/local/bin:/usr/bin:/bin', 'APP_MODE=demo'];
    const policyData = { containers: [{ name: 'app', process: { Args: args, Env: env }, layers: layerPins }] };
    const policy = `${rules}\npolicy_data := ${JSON.stringify(policyData, null, 2)}\n`;
    const hostData = sha256(policy);
    steps.push({ step: 'policy and HOST_DATA (SHA-256 of the policy text)', ok: true, detail: hostData });

    const quiet = createLogger({ level: 'silent' });
    const agent = PolicyEnforcer.withDefaultPolicy({ hostData, logger: quiet });
    const wrong = agent.decide('SetPolicyRequest', { policy: policy + '\n# tampered by the host\n' });
    steps.push({ step: 'agent refuses a SetPolicy whose hash is not HOST_DATA', ok: !wrong.allowed, detail: wrong.error?.message ?? 'allowed' });
    const set = agent.decide('SetPolicyRequest', { policy });
    steps.push({ step: 'agent accepts the policy bound in HOST_DATA', ok: set.allowed, detail: set.allowed ? 'SetPolicyRequest allowed' : set.message ?? '' });

    const request = createContainerRequest(args, env, layerPins);
    const allowed = agent.decide('CreateContainerRequest', request);
    steps.push({ step: 'agent allows the pod container', ok: allowed.allowed, detail: allowed.allowed ? 'CreateContainerRequest allowed' : allowed.message ?? '' });
    const tampered = createContainerRequest(args, [...env, 'LD_PRELOAD=/tmp/evil.so'], layerPins);
    const denied = agent.decide('CreateContainerRequest', tampered);
    const why = explainDenial(agent, 'CreateContainerRequest', tampered, denied).checks[0]?.message ?? '';
    steps.push({ step: 'agent denies a container with an injected env var', ok: !denied.allowed, detail: why });
    const swapped = createContainerRequest(args, env, [layerPins[0], 'f'.repeat(64)]);
    const deniedLayer = agent.decide('CreateContainerRequest', swapped);
    const whyLayer = explainDenial(agent, 'CreateContainerRequest', swapped, deniedLayer).checks[0]?.message ?? '';
    steps.push({ step: 'agent denies a container whose layer the host swapped', ok: !deniedLayer.allowed, detail: whyLayer });

    const tee = await createSimulatedTee();
    const { report, certs } = await tee.snpReport({ hostData: Buffer.from(hostData, 'hex'), reportData: createHash('sha512').update('workload key').digest() });
    const claims = await verifySnpReport(report, { certs, trustSimulator: true });
    steps.push({ step: 'INSECURE software TEE: SEV-SNP report verified (simulator trusted explicitly)', ok: claims.simulated && claims.hostData === hostData, detail: `simulated=${claims.simulated} host_data=${claims.hostData}` });
    const good = await appraise(claims, { reference: { snp: { host_data: [hostData] } } });
    steps.push({ step: 'appraisal: HOST_DATA is the policy hash', ok: good.decision.allow, detail: good.decision.allow ? 'allowed' : good.decision.reasons.join('; ') });
    const other = await tee.snpReport({ hostData: Buffer.from(sha256('another policy'), 'hex') });
    const otherClaims = await verifySnpReport(other.report, { certs: other.certs, trustSimulator: true });
    const bad = await appraise(otherClaims, { reference: { snp: { host_data: [hostData] } } });
    steps.push({ step: 'appraisal refuses a VM running another policy', ok: !bad.decision.allow, detail: bad.decision.reasons.join('; ') });
    return { image: image.reference, layerPins, hostData, steps };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
