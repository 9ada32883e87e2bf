/**
 * Decisions per second for the recorded CreateContainerRequest of each Kata recording: through the
 * library (PolicyEnforcer.decide) and through the OPA-compatible HTTP server (`serve opa`'s server) on
 * loopback, loaded by a client in a separate process (bench/lib/http-client.ts: keep-alive, 16 clients
 * in flight). Target: HTTP > 1,500 decisions/s.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PolicyEnforcer } from '../src/agent/enforcer.js';
import { createOpaServer } from '../src/agent/server/opa-server.js';
import { createLogger } from '../src/core/log.js';

const shared = process.env.CONFCOM_SHARED_DIR ?? join(process.cwd(), '..', 'shared');
const dir = join(shared, 'kata-requests');
if (!existsSync(dir)) {
  console.log(`NOTICE: ${dir} is absent: agent benchmark skipped`);
  process.exit(0);
}

/** CPU time of this process (all threads) since `from`, in ms: on a loaded machine wall time also counts waiting. */
const cpuMs = (from: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
};
const queryWorkers = () => Math.min(availableParallelism(), 8);

for (const name of ['k8s-policy-pod', 'pod-exec']) {
  const policy = readFileSync(join(dir, name, 'policy.rego'), 'utf8');
  const record = readFileSync(join(dir, name, 'requests.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"CreateContainerRequest"'))
    .map((l) => JSON.parse(l) as { request: unknown })[1];
  const enforcer = PolicyEnforcer.fromText(policy, { logger: createLogger({ level: 'silent' }) });
  for (let i = 0; i < 200; i++) enforcer.decide('CreateContainerRequest', record.request);
  const n = 2000;
  let cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) enforcer.decide('CreateContainerRequest', record.request);
  const libSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const libCpuMs = cpuMs(cpu) / n;

  const app = await createOpaServer();
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  await fetch(`${base}/v1/policies/agent_policy`, { method: 'PUT', body: policy, headers: { 'content-type': 'text/plain' } });
  const work = mkdtempSync(join(tmpdir(), 'confcom-bench-'));
  const bodyFile = join(work, 'body.json');
  writeFileSync(bodyFile, JSON.stringify({ input: record.request }));
  const httpN = 3000;
  const clients = 16;
  const url = `${base}/v1/data/agent_policy/CreateContainerRequest`;
  cpu = process.cpuUsage();
  const client = spawn(process.execPath, [resolve('.bench-dist/bench/lib/http-client.js'), url, bodyFile, String(clients), String(httpN)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  client.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((done) => client.on('close', done));
  // This process is the server: its HTTP thread and its query workers (the client is another process).
  // The client's 50 warm-up requests run in the same window.
  const serverCpuMs = cpuMs(cpu) / (httpN + 50);
  await app.close();
  rmSync(work, { recursive: true, force: true });
  if (code !== 0) throw new Error(`bench client failed (exit ${code})`);
  const { seconds: httpSeconds, bad } = JSON.parse(out.trim()) as { seconds: number; bad: number };
  if (bad > 0) throw new Error(`${bad} of ${httpN} HTTP answers were not 200`);
  console.log(
    `${name}: CreateContainerRequest decisions/s  library ${(n / libSeconds).toFixed(0)}  (${((libSeconds / n) * 1000).toFixed(3)} ms each, CPU ${libCpuMs.toFixed(3)} ms)` +
      `   HTTP server ${(httpN / httpSeconds).toFixed(0)} (target > 1500; ${clients} clients, keep-alive, client in its own process;` +
      ` server CPU ${serverCpuMs.toFixed(3)} ms per request, up to ${queryWorkers()} query workers)`,
  );
}
