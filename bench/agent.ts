/**
 * Decisions per second for the recorded CreateContainerRequest of each Kata recording: through the
 * library (PolicyEnforcer.decide) and through the OPA-compatible HTTP server on loopback (keep-alive,
 * 16 clients in flight).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PolicyEnforcer } from '../src/agent/enforcer.js';
import { createOpaServer } from '../src/agent/server/opa-server.js';
import { createLogger } from '../src/core/log.js';

const shared = process.env.CONFCOM_SHARED_DIR ?? join(process.cwd(), '..', 'shared');
const dir = join(shared, 'kata-requests');
if (!existsSync(dir)) {
  console.log(`NOTICE: ${dir} is absent: agent benchmark skipped`);
  process.exit(0);
}

for (const name of ['k8s-policy-pod', 'pod-exec']) {
  const policy = readFileSync(join(dir, name, 'policy.rego'), 'utf8');
  const record = readFileSync(join(dir, name, 'requests.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"CreateContainerRequest"'))
    .map((l) => JSON.parse(l) as { request: unknown })[1];
  const enforcer = PolicyEnforcer.fromText(policy, { logger: createLogger({ level: 'silent' }) });
  for (let i = 0; i < 200; i++) enforcer.decide('CreateContainerRequest', record.request);
  const n = 2000;
  let started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) enforcer.decide('CreateContainerRequest', record.request);
  const libSeconds = Number(process.hrtime.bigint() - started) / 1e9;

  const app = await createOpaServer();
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  await fetch(`${base}/v1/policies/agent_policy`, { method: 'PUT', body: policy, headers: { 'content-type': 'text/plain' } });
  const body = JSON.stringify({ input: record.request });
  const httpN = 2000;
  const clients = 16;
  const one = () => fetch(`${base}/v1/data/agent_policy/CreateContainerRequest`, { method: 'POST', body, headers: { 'content-type': 'application/json' } }).then((r) => r.json());
  for (let i = 0; i < 100; i++) await one();
  started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < httpN / clients; i++) await one();
    }),
  );
  const httpSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  await app.close();
  console.log(
    `${name}: CreateContainerRequest decisions/s  library ${(n / libSeconds).toFixed(0)}  (${((libSeconds / n) * 1000).toFixed(3)} ms each)` +
      `   HTTP server ${(httpN / httpSeconds).toFixed(0)}  (${clients} clients, keep-alive)`,
  );
}
