/**
 * Decisions per second for the recorded CreateContainerRequest of each Kata recording: through the
 * library (PolicyEnforcer.decide) and through the OPA-compatible HTTP server (`serve opa`'s server) on
 * loopback, loaded by a client in a separate process (bench/lib/http-client.ts: raw node:http keep-alive,
 * 16 clients in flight). Target: HTTP > 1,500 decisions/s.
 *
 * Besides the rate it prints the CPU each request costs the server (HTTP thread and query workers) and
 * the client, and the load average: on a 2-core machine server + client CPU per request bounds the rate
 * (2,000 ms / their sum). A trivial policy (`allow := true`) on the same body shows the server's own
 * overhead per request, so the gap to the library's figure is visible as evaluation or as HTTP.
 * BENCH_QUERY_WORKERS sets the server's query worker count (default: one per core).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
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
const queryWorkers = Number(process.env.BENCH_QUERY_WORKERS ?? Math.min(availableParallelism(), 8));
const clients = 16;
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

interface HttpFigures {
  perSecond: number;
  serverCpuMs: number;
  clientCpuMs: number;
}

/** Serves `policy`, loads `path` with `body` from a client process, and returns rate and CPU per request. */
async function httpRun(policy: string, path: string, body: string, requests: number): Promise<HttpFigures> {
  const app = await createOpaServer({ queryWorkers });
  const work = mkdtempSync(join(tmpdir(), 'confcom-bench-'));
  try {
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const put = await app.inject({ method: 'PUT', url: '/v1/policies/agent_policy', payload: policy, headers: { 'content-type': 'text/plain' } });
    if (put.statusCode !== 200) throw new Error(`policy does not load: ${put.body}`);
    const bodyFile = join(work, 'body.json');
    writeFileSync(bodyFile, body);
    const client = spawn(process.execPath, [resolve('.bench-dist/bench/lib/http-client.js'), `${base}${path}`, bodyFile, String(clients), String(requests)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    // This process is the server: its HTTP thread and its query workers (the client is another process).
    let cpu = process.cpuUsage();
    client.stdout.on('data', (d: Buffer) => {
      if (out === '' && d.toString().startsWith('warm')) cpu = process.cpuUsage();
      out += d.toString();
    });
    const code = await new Promise<number | null>((done) => client.on('close', done));
    const serverCpuMs = cpuMs(cpu) / requests;
    if (code !== 0) throw new Error(`bench client failed (exit ${code})`);
    const result = JSON.parse(out.trim().split('\n').pop() ?? '') as { seconds: number; bad: number; cpuMs: number };
    if (result.bad > 0) throw new Error(`${result.bad} of ${requests} HTTP answers were not 200`);
    return { perSecond: requests / result.seconds, serverCpuMs, clientCpuMs: result.cpuMs / requests };
  } finally {
    await app.close();
    rmSync(work, { recursive: true, force: true });
  }
}

const line = (f: HttpFigures) => `${f.perSecond.toFixed(0)}/s  server CPU ${f.serverCpuMs.toFixed(3)} ms/req, client CPU ${f.clientCpuMs.toFixed(3)} ms/req`;

console.log(`${clients} clients, keep-alive, client in its own process; ${queryWorkers} query workers; ${availableParallelism()} cores; load average ${load()}`);
for (const name of ['k8s-policy-pod', 'pod-exec']) {
  const policy = readFileSync(join(dir, name, 'policy.rego'), 'utf8');
  const record = readFileSync(join(dir, name, 'requests.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"CreateContainerRequest"'))
    .map((l) => JSON.parse(l) as { request: unknown })[1];
  const enforcer = PolicyEnforcer.fromText(policy, { logger: createLogger({ level: 'silent' }) });
  for (let i = 0; i < 200; i++) enforcer.decide('CreateContainerRequest', record.request);
  const n = 2000;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) enforcer.decide('CreateContainerRequest', record.request);
  const libSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const libCpuMs = cpuMs(cpu) / n;

  const body = JSON.stringify({ input: record.request });
  const http = await httpRun(policy, '/v1/data/agent_policy/CreateContainerRequest', body, 3000);
  // The same body on a policy that does nothing: what the server costs around an evaluation.
  const trivial = await httpRun('package agent_policy\n\nCreateContainerRequest := {"allowed": true}\n', '/v1/data/agent_policy/CreateContainerRequest', body, 3000);
  console.log(
    `${name}: CreateContainerRequest (${(body.length / 1024).toFixed(1)} KB body)  library ${(n / libSeconds).toFixed(0)}/s (${((libSeconds / n) * 1000).toFixed(3)} ms each, CPU ${libCpuMs.toFixed(3)} ms)\n` +
      `  HTTP server   ${line(http)}  (target > 1500)\n` +
      `  trivial policy ${line(trivial)}  (server overhead alone)\n` +
      `  load average ${load()}`,
  );
}
