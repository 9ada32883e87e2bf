/**
 * Policy generation, side by side in one run:
 * - CPU of `confcom policy hash` against `node -e 0` (target: within 2x);
 * - CPU of `confcom policy generate` on 100 pods, the real binary, warm layer cache (target < 600 ms);
 * - in-process: a 20-pod manifest (Deployments, StatefulSets, Jobs, ...) sharing 5 images, warm cache
 *   (each run resolves the images again but finds every layer pin cached), the policy size per pod
 *   and the time to decide a pod's requests with the generated policy.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyEnforcer } from '../src/agent/index.js';
import { parseManifest } from '../src/k8s/manifest.js';
import { generatePolicies, modelPods } from '../src/policy/generate.js';
import { OciImageResolver } from '../src/policy/images.js';
import { loadSettings } from '../src/policy/settings.js';
import { simulatePod } from '../src/policy/simulate.js';
import { writeExampleLayout } from '../test/policy/test-images.js';
import { cpuPreload, medianCpuMs } from './lib/cpu.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

const KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet'] as const;
const IMAGES = ['confcom.example/web:web-1.0', 'confcom.example/worker:worker-1.0', 'confcom.example/tools:tools-1.0', 'confcom.example/proxy:proxy-1.0'];

function manifest(pods: number): string {
  const docs: string[] = [];
  for (let i = 0; i < pods; i++) {
    const kind = KINDS[i % KINDS.length];
    const apiVersion = kind === 'Job' ? 'batch/v1' : 'apps/v1';
    const image = IMAGES[i % IMAGES.length];
    const sidecar = IMAGES[(i + 1) % IMAGES.length];
    docs.push(`apiVersion: ${apiVersion}
kind: ${kind}
metadata:
  name: app-${i}
spec:
  ${kind === 'StatefulSet' ? `serviceName: app-${i}\n  ` : ''}template:
    metadata:
      labels: {app: app-${i}}
    spec:
      runtimeClassName: kata-cc-isolation
      containers:
        - name: main
          image: ${image}
          command: ["/bin/sh", "-c", "serve --id ${i} --ip $(POD_IP)"]
          env:
            - {name: INDEX, value: "${i}"}
            - name: POD_IP
              valueFrom: {fieldRef: {fieldPath: status.podIP}}
          readinessProbe: {exec: {command: ["/bin/sh", "-c", "test -e /tmp/ready"]}}
          volumeMounts: [{name: scratch, mountPath: /scratch}]
        - name: sidecar
          image: ${sidecar}
          args: ["--sidecar", "${i}"]
      volumes: [{name: scratch, emptyDir: {}}]
`);
  }
  return docs.join('---\n');
}

const dir = mkdtempSync(join(tmpdir(), 'confcom-bench-policy-'));
try {
  const layout = join(dir, 'layout');
  await writeExampleLayout(layout);
  const preload = cpuPreload(dir);
  const cache = join(dir, 'cache');
  const big = join(dir, 'pods-100.yaml');
  const hashed = join(dir, 'pods-100.generated.yaml');
  const one = join(dir, 'pod-1.yaml');
  const oneHashed = join(dir, 'pod-1.generated.yaml');
  writeFileSync(big, manifest(100));
  writeFileSync(one, manifest(1));
  const imageFlags = ['--image-source', `oci-layout:${layout}`, '--cache', cache];
  medianCpuMs(preload, [MAIN, 'policy', 'generate', big, '-o', hashed, ...imageFlags], 1); // fills the layer cache
  medianCpuMs(preload, [MAIN, 'policy', 'generate', one, '-o', oneHashed, ...imageFlags], 1);
  const base = medianCpuMs(preload, ['-e', '0'], 7);
  const hash = medianCpuMs(preload, [MAIN, 'policy', 'hash', oneHashed], 7);
  const generate = medianCpuMs(preload, [MAIN, 'policy', 'generate', big, '-o', hashed, ...imageFlags], 3);
  console.log('CPU ms (user + system, median), the real binary');
  console.log(`  node -e 0                         ${base.toFixed(0).padStart(6)} ms`);
  console.log(`  confcom policy hash (one pod)     ${hash.toFixed(0).padStart(6)} ms  ${(hash / base).toFixed(2)}x node   target <= 2.00x${hash / base <= 2 ? '  ok' : '  SLOWER THAN TARGET'}`);
  console.log(`  confcom policy generate, 100 pods ${generate.toFixed(0).padStart(6)} ms            target < 600 ms${generate < 600 ? '  ok' : '  SLOWER THAN TARGET'}`);
  const settings = await loadSettings();
  const text = manifest(20);
  const run = async () => {
    const images = new OciImageResolver({ imageSource: `oci-layout:${layout}`, cacheDir: join(dir, 'cache') });
    const manifests = [parseManifest(text, 'bench.yaml')];
    const started = process.hrtime.bigint();
    const { policies } = await generatePolicies(manifests, { settings, images });
    return { ms: Number(process.hrtime.bigint() - started) / 1e6, policies, manifests, images };
  };
  const cold = await run();
  const warm: number[] = [];
  let last = cold;
  for (let i = 0; i < 5; i++) {
    last = await run();
    warm.push(last.ms);
  }
  warm.sort((a, b) => a - b);
  const sizes = last.policies.map((p) => Buffer.byteLength(p.policy)).sort((a, b) => a - b);
  console.log(`policy generate, 20 pods / 5 images (incl. pause), OCI layout source`);
  console.log(`  cold cache:  ${cold.ms.toFixed(0)} ms`);
  console.log(`  warm cache:  ${warm[2].toFixed(0)} ms median of 5 (min ${warm[0].toFixed(0)}, max ${warm[4].toFixed(0)})   target < 1000 ms`);
  console.log(`  policy size per pod: ${sizes[0]}..${sizes[sizes.length - 1]} bytes (annotation ~${Math.ceil(sizes[sizes.length - 1] / 3) * 4} bytes base64)`);
  const { pods } = await modelPods(last.manifests, { settings, images: last.images });
  const requests = simulatePod(pods[0].model, settings);
  const enforcer = PolicyEnforcer.fromText(last.policies[0].policy, { syntax: 'v1' });
  const started = process.hrtime.bigint();
  for (const r of requests) if (!enforcer.decide(r.kind, r.request).allowed) throw new Error(`${r.kind} denied`);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(`  deciding one pod's ${requests.length} requests: ${ms.toFixed(1)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
