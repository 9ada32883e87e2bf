/** The admission webhook over real HTTPS: JSON Patch that yields a schema-valid pod, and refusals. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Pod } from 'kubernetes-models/v1';
import { applyJsonPatch, type PatchOperation } from '../../src/agent/json-patch.js';
import type { Json } from '../../src/rego/value.js';
import { NodeMetrics } from '../../src/node/metrics.js';
import { decide } from '../../src/node/webhook/mutate.js';
import { buildWebhookServer } from '../../src/node/webhook/server.js';
import { MIB } from '../../src/node/sgx/resources.js';
import { hasTool } from '../helpers/tools.js';
import { selfSigned } from './tls.js';

const REVIEW = JSON.parse(readFileSync(new URL('../fixtures/node/admission-review.json', import.meta.url), 'utf8')) as { request: { object: Record<string, unknown> } };
const clone = <T>(v: T): T => structuredClone(v);

let tls: { cert: string; key: string };
let port: number;
const metrics = new NodeMetrics();
let app: ReturnType<typeof buildWebhookServer>;

const haveOpenssl = hasTool('openssl');

beforeAll(async () => {
  if (!haveOpenssl) return;
  tls = selfSigned();
  app = buildWebhookServer({ tls, metrics, epcBytes: 64 * MIB });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(async () => app?.close());

function post(path: string, body: unknown, method = 'POST'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, path, method, ca: tls.cert, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

interface ReviewAnswer { apiVersion: string; kind: string; response: { uid: string; allowed: boolean; patchType?: string; patch?: string; status?: { code: number; message: string } } }

describe.runIf(haveOpenssl)('admission webhook', () => {
  it('patches an opted-in EPC pod over HTTPS into a pod that validates against the Kubernetes schema', async () => {
    const r = await post('/mutate', REVIEW);
    expect(r.status).toBe(200);
    const answer = JSON.parse(r.body) as ReviewAnswer;
    expect(answer).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true, patchType: 'JSONPatch' } });
    const patch = JSON.parse(Buffer.from(answer.response.patch ?? '', 'base64').toString()) as PatchOperation[];
    const pod = applyJsonPatch(REVIEW.request.object as Json, patch) as { spec: { volumes: unknown[]; containers: { env?: unknown[]; volumeMounts?: unknown[] }[] } };
    expect(pod.spec.volumes).toEqual([{ name: 'confcom-aesmd', hostPath: { path: '/var/run/aesmd', type: 'DirectoryOrCreate' } }]);
    expect(pod.spec.containers[0].env).toEqual([{ name: 'LOG_LEVEL', value: 'info' }, { name: 'SGX_AESM_ADDR', value: '1' }]);
    expect(pod.spec.containers[0].volumeMounts).toEqual([{ name: 'confcom-aesmd', mountPath: '/var/run/aesmd' }]);
    expect(pod.spec.containers[1].env).toBeUndefined(); // the sidecar asks for no EPC
    expect(() => new Pod(pod as ConstructorParameters<typeof Pod>[0]).validate()).not.toThrow();
    // Applying the patch again to its own result changes nothing: the webhook is idempotent.
    expect(decide(pod as Parameters<typeof decide>[0], { epcBytes: 64 * MIB })).toEqual({ allowed: true, patch: [] });
  });

  it('leaves pods without the opt-in annotation alone and refuses EPC above the pool size', async () => {
    const plain = clone(REVIEW);
    (plain.request.object.metadata as { annotations: Record<string, string> }).annotations = {};
    expect((JSON.parse((await post('/mutate', plain)).body) as ReviewAnswer).response).toEqual({ uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });

    const big = clone(REVIEW);
    const c = (big.request.object.spec as { containers: { resources: { limits: Record<string, string> } }[] }).containers[0];
    c.resources.limits['kubernetes.azure.com/sgx_epc_mem_in_MiB'] = '128';
    const denied = (JSON.parse((await post('/mutate', big)).body) as ReviewAnswer).response;
    expect(denied.allowed).toBe(false);
    expect(denied.status?.code).toBe(403);
    expect(denied.status?.message).toMatch(/asks for 128 MiB of SGX EPC but a node of this pool has 64 MiB.*\(lower kubernetes\.azure\.com\/sgx_epc_mem_in_MiB or/);

    // The hint names the resource the pod asked with.
    const intel = clone(REVIEW);
    const ci = (intel.request.object.spec as { containers: { resources: { limits: Record<string, string> } }[] }).containers[0];
    delete ci.resources.limits['kubernetes.azure.com/sgx_epc_mem_in_MiB'];
    ci.resources.limits['sgx.intel.com/epc'] = String(100 * 1024 * 1024);
    const intelDenied = (JSON.parse((await post('/mutate', intel)).body) as ReviewAnswer).response;
    expect(intelDenied.status?.message).toMatch(/asks for 100 MiB of SGX EPC.*\(lower sgx\.intel\.com\/epc or/);

    c.resources.limits['kubernetes.azure.com/sgx_epc_mem_in_MiB'] = 'ten';
    expect((JSON.parse((await post('/mutate', big)).body) as ReviewAnswer).response.status?.message).toMatch(/'ten' is not a whole-number quantity/);
  });

  it('refuses a malformed review and serves health and metrics', async () => {
    const bad = JSON.parse((await post('/mutate', { kind: 'Nope' })).body) as ReviewAnswer;
    expect(bad.response.allowed).toBe(false);
    expect((await post('/healthz', undefined, 'GET')).body).toBe('{"status":"ok"}');
    const m = await post('/metrics', undefined, 'GET');
    expect(m.body).toMatch(/confcom_node_admissions_total\{decision="patched"\} [1-9]/);
    expect(m.body).toMatch(/confcom_node_admissions_total\{decision="denied"\} [1-9]/);
  });
});
