/**
 * The local end-to-end chain behind `confcom demo` (and `npm start`), on built-in defaults:
 *   1. write the built-in image as an OCI layout;
 *   2. generate the policy of the built-in manifest's pod from that layout (the real generator: every
 *      layer pinned by its dm-verity root hash) and its HOST_DATA;
 *   3. the agent side: SetPolicy checked against HOST_DATA; every request the runtime would send for
 *      the pod decided as expected; tampered requests denied, the explanation naming the changed field;
 *   4. the attestation side, on the software TEE (INSECURE, simulation only): an SEV-SNP report binding
 *      HOST_DATA, verified (simulator trusted explicitly) and appraised against the policy hash;
 *   5. the release: the attestation service and key broker on loopback with a demo secret whose release
 *      policy requires HOST_DATA; the guest agent (src/guest) on a software-TEE VM booted with HOST_DATA
 *      attests over the KBS protocol and gets the secret (its name is printed, never its value); the
 *      same VM booted with a tampered policy is refused and nothing is released.
 * Every step records how long it took. Everything started is stopped before returning.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyEnforcer } from '../agent/enforcer.js';
import { explainDenial } from '../agent/explain.js';
import { createLogger } from '../core/log.js';
import { serializeManifest } from '../k8s/manifest.js';
import { createSimulatedTee } from '../attest/sim/index.js';
import { verifySnpReport } from '../attest/verify.js';
import { appraise } from '../attest/appraisal/index.js';
import type { SimulatedRequest } from '../policy/index.js';
import { writeSampleImage } from './sample-image.js';
import { execOther, findCreateContainer, findExec, injectEnv, swapLayer, type TamperedRequest } from './tamper.js';
import { generateDemoWorkload } from './workload.js';
import { DEMO_RESOURCE_PATH, startLocalBroker } from './broker.js';
import { KbsClient } from '../guest/kbs-client.js';
import { SimulatedSnpProvider } from '../guest/evidence/sim.js';
import { GuestFlowError } from '../guest/errors.js';

export interface DemoStep {
  step: string;
  ok: boolean;
  detail: string;
  /** For a denial: the request field the explanation blamed. */
  field?: string;
  /** How long the step took. */
  ms?: number;
}

export interface DemoResult {
  image: string;
  layerPins: string[];
  /** `Deployment/app` */
  resource: string;
  annotation: string;
  policyBytes: number;
  hostData: string;
  /** The built-in manifest with the policy annotation written in, as `policy generate` would print it. */
  manifest: string;
  requests: { total: number; asExpected: number };
  /** The resource the guest agent got released (its name; the value is never kept or shown). */
  released?: string;
  /** Always true: the demo's TEE is confcom's software TEE, never hardware. */
  simulatedTee: true;
  steps: DemoStep[];
}

/** The container of the built-in manifest the tampering targets. */
const APP_CONTAINER = 'app';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const short = (hash: string) => `${hash.slice(0, 12)}…`;

interface Replayed {
  asExpected: number;
  unexpected: string[];
  /** Denial steps, one per tampered request. */
  denials: DemoStep[];
}

/**
 * Decides every simulated request in order on the agent, state carried between them as in the VM.
 * Each tampered variant is sent just before the genuine request it imitates, when the agent's state is
 * the one that request meets; a denial changes no state, so the genuine request follows unaffected.
 */
function replayWithTampering(agent: PolicyEnforcer, requests: readonly SimulatedRequest[], tampered: ReadonlyMap<SimulatedRequest, TamperedRequest[]>): Replayed {
  const out: Replayed = { asExpected: 0, unexpected: [], denials: [] };
  requests.forEach((r, i) => {
    for (const t of tampered.get(r) ?? []) {
      const decision = agent.decide(t.kind, t.request);
      const check = decision.allowed ? undefined : explainDenial(agent, t.kind, t.request, decision).checks[0];
      out.denials.push({
        step: `agent denies ${t.kind} with ${t.what}`,
        ok: !decision.allowed && !decision.stateChanged && check?.path === t.field,
        detail: decision.allowed ? `ALLOWED (expected a denial naming ${t.field})` : (check?.message ?? `denied, no explanation (expected ${t.field})`),
        field: check?.path,
      });
    }
    const decision = agent.decide(r.kind, r.request);
    if (decision.allowed === r.expect) out.asExpected++;
    else out.unexpected.push(`#${i} ${r.kind} ${decision.allowed ? 'allowed' : 'denied'}${decision.message ? `: ${decision.message}` : ''}`);
  });
  return out;
}

/** The release steps: broker up, the genuine VM gets the secret, the tampered one gets nothing. */
async function releaseSteps(hostData: string, tamperedHostData: string, secret: Buffer, push: (step: DemoStep) => void): Promise<string | undefined> {
  const broker = await startLocalBroker({ hostData, secret });
  try {
    push({ step: 'start the attestation service and key broker on loopback (INSECURE: trusts the software TEE)', ok: true, detail: `${broker.url}: resource ${DEMO_RESOURCE_PATH}, released only to HOST_DATA ${short(hostData)}` });
    const agent = (hd: string) => new KbsClient({ url: broker.url, evidence: new SimulatedSnpProvider({ hostData: Buffer.from(hd, 'hex') }), retry: { retries: 1, minTimeoutMs: 50 } });
    let released: string | undefined;
    try {
      const got = await agent(hostData).getResource(DEMO_RESOURCE_PATH);
      const ok = got.equals(secret);
      if (ok) released = DEMO_RESOURCE_PATH;
      push({ step: 'guest agent on the software TEE booted with HOST_DATA attests (KBS protocol) and gets the secret', ok, detail: ok ? `released ${DEMO_RESOURCE_PATH} (${got.length} bytes, value not shown)` : 'the released bytes are not the secret' });
    } catch (error) {
      push({ step: 'guest agent on the software TEE booted with HOST_DATA attests (KBS protocol) and gets the secret', ok: false, detail: (error as Error).message });
    }
    const allowsBefore = broker.decisions.filter((d) => d.fields.decision === 'allow').length;
    try {
      await agent(tamperedHostData).getResource(DEMO_RESOURCE_PATH);
      push({ step: 'the same VM with a tampered policy is refused, nothing released', ok: false, detail: 'RELEASED (expected a refusal)' });
    } catch (error) {
      const allowsAfter = broker.decisions.filter((d) => d.fields.decision === 'allow').length;
      const refused = error instanceof GuestFlowError && error.status === 403 && allowsAfter === allowsBefore;
      push({ step: 'the same VM with a tampered policy is refused, nothing released', ok: refused, detail: `HOST_DATA ${short(tamperedHostData)}: ${(error as Error).message}` });
    }
    return released;
  } finally {
    await broker.close();
  }
}

export interface DemoOptions {
  /** The demo secret (default: 32 random bytes); tests pass one to check it never shows. */
  secret?: Buffer;
  /** Keep the demo's files here: the OCI layout (`layout/`, the image and the pause image) and the annotated manifest (`app.yaml`). */
  outDir?: string;
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const steps: DemoStep[] = [];
  let last = Date.now();
  const push = (...done: DemoStep[]) => {
    const now = Date.now();
    done.forEach((s, i) => steps.push({ ...s, ms: i === 0 ? now - last : 0 }));
    last = now;
  };
  const dir = await mkdtemp(join(tmpdir(), 'confcom-demo-'));
  try {
    const layout = join(dir, 'layout');
    const image = await writeSampleImage(layout);
    push({ step: 'write the built-in image as an OCI layout', ok: true, detail: `${image.reference}: ${image.layerTars.length} gzip layers, config with user, env, entrypoint` });

    const workload = await generateDemoWorkload(image.reference, layout, dir);
    const { policy } = workload;
    const policyBytes = Buffer.byteLength(policy.policy);
    push({
      step: `generate the policy of ${policy.resource} (built-in manifest, image from the layout, no registry)`,
      ok: workload.layerPins.length === image.layerTars.length && workload.layerPins.every((pin) => policy.policy.includes(pin)),
      detail: `${policyBytes} bytes in annotation ${policy.annotation}; layers pinned: ${workload.layerPins.map(short).join(', ')}`,
    });
    const hostData = policy.hostData;
    push({ step: 'HOST_DATA: SHA-256 of the policy text', ok: hostData === sha256(policy.policy), detail: hostData });

    const agent = PolicyEnforcer.withDefaultPolicy({ hostData, logger: createLogger({ level: 'silent' }) });
    const wrong = agent.decide('SetPolicyRequest', { policy: `${policy.policy}\n# tampered by the host\n` });
    push({ step: 'agent refuses a SetPolicy whose hash is not HOST_DATA', ok: !wrong.allowed && wrong.reason === 'host_data_mismatch', detail: wrong.error?.message ?? 'ALLOWED' });
    const set = agent.decide('SetPolicyRequest', { policy: policy.policy });
    const accepted = set.allowed && agent.policyHash === hostData;
    push({ step: 'agent accepts the generated policy, bound in HOST_DATA', ok: accepted, detail: accepted ? `policy in force, SHA-256 ${agent.policyHash}` : (set.message ?? set.error?.message ?? 'refused') });

    const create = findCreateContainer(workload.requests, APP_CONTAINER);
    const exec = findExec(workload.requests, create);
    const tampered = new Map<SimulatedRequest, TamperedRequest[]>([[create, [injectEnv(create, 'LD_PRELOAD=/tmp/evil.so'), swapLayer(create, sha256('a layer the host swapped in'))]]]);
    if (exec) tampered.set(exec, [execOther(exec, ['/bin/sh', '-c', 'cat /proc/1/environ'])]);
    const replayed = accepted ? replayWithTampering(agent, workload.requests, tampered) : { asExpected: 0, unexpected: ['the policy was not set'], denials: [] };
    const total = workload.requests.length;
    push({
      step: `agent decides every request the runtime sends for ${policy.resource} as expected`,
      ok: replayed.asExpected === total,
      detail: `${total} requests: ${replayed.asExpected} as expected${replayed.unexpected.length > 0 ? `; ${replayed.unexpected.join('; ')}` : ''}`,
    });
    if (!exec) push({ step: 'agent denies an exec the manifest does not allow', ok: false, detail: 'the pod has no exec command to imitate' });
    push(...replayed.denials);

    const tee = await createSimulatedTee();
    const { report, certs } = await tee.snpReport({ hostData: Buffer.from(hostData, 'hex'), reportData: createHash('sha512').update('workload key').digest() });
    const claims = await verifySnpReport(report, { certs, trustSimulator: true });
    push({ step: 'INSECURE software TEE: SEV-SNP report verified (simulator trusted explicitly)', ok: claims.simulated && claims.hostData === hostData, detail: `simulated=${claims.simulated} host_data=${claims.hostData}` });
    const good = await appraise(claims, { reference: { snp: { host_data: [hostData] } } });
    push({ step: 'appraisal: HOST_DATA is the policy hash', ok: good.decision.allow, detail: good.decision.allow ? 'allowed' : good.decision.reasons.join('; ') });
    const other = await tee.snpReport({ hostData: Buffer.from(sha256('another policy'), 'hex') });
    const otherClaims = await verifySnpReport(other.report, { certs: other.certs, trustSimulator: true });
    const bad = await appraise(otherClaims, { reference: { snp: { host_data: [hostData] } } });
    push({ step: 'appraisal refuses a VM running another policy', ok: !bad.decision.allow, detail: bad.decision.reasons.join('; ') });

    if (options.outDir) {
      await mkdir(options.outDir, { recursive: true });
      await cp(layout, join(options.outDir, 'layout'), { recursive: true });
      await writeFile(join(options.outDir, 'app.yaml'), serializeManifest(workload.manifest));
    }
    const released = await releaseSteps(hostData, sha256(`${policy.policy}\n# tampered by the host\n`), options.secret ?? randomBytes(32), push);

    return {
      image: image.reference,
      layerPins: workload.layerPins,
      resource: policy.resource,
      annotation: policy.annotation,
      policyBytes,
      hostData,
      manifest: serializeManifest(workload.manifest),
      requests: { total, asExpected: replayed.asExpected },
      released,
      simulatedTee: true,
      steps,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
