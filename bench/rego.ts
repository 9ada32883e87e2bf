/**
 * For each policy in ../shared/kata-requests: parse+compile time, and per-request evaluation time
 * (median, p99) over all its recorded requests, evaluated as the agent does (data.agent_policy.<kind>).
 * Targets on a 2-core machine: compile < 40 ms, median decision < 0.3 ms.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegoEngine } from '../src/rego/index.js';

const dir = join(process.env.CONFCOM_SHARED_DIR ?? join(process.cwd(), '..', 'shared'), 'kata-requests');
if (!existsSync(dir)) {
  console.log(`NOTICE: ${dir} is absent: Rego benchmark skipped`);
  process.exit(0);
}

const ms = (ns: bigint) => Number(ns) / 1e6;
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

for (const name of ['k8s-policy-pod', 'pod-exec']) {
  const policy = readFileSync(join(dir, name, 'policy.rego'), 'utf8');
  const requests = readFileSync(join(dir, name, 'requests.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { kind: string; request: unknown });
  const compileTimes: number[] = [];
  let engine = new RegoEngine();
  for (let i = 0; i < 10; i++) {
    const t = process.hrtime.bigint();
    engine = new RegoEngine();
    engine.addModule(policy, 'policy.rego', { syntax: 'v0' });
    engine.setData({ pstate: {} });
    engine.evalRule('data.agent_policy.AllowRequestsFailingPolicy'); // forces compilation
    compileTimes.push(ms(process.hrtime.bigint() - t));
  }
  compileTimes.sort((a, b) => a - b);
  for (const r of requests) engine.evalRule(`data.agent_policy.${r.kind}`, { input: r.request }); // warm-up
  const times: number[] = [];
  const rounds = 20;
  for (let round = 0; round < rounds; round++) {
    for (const r of requests) {
      const t = process.hrtime.bigint();
      engine.evalRule(`data.agent_policy.${r.kind}`, { input: r.request });
      times.push(ms(process.hrtime.bigint() - t));
    }
  }
  times.sort((a, b) => a - b);
  const create = requests.filter((r) => r.kind === 'CreateContainerRequest');
  const createTimes: number[] = [];
  for (let i = 0; i < 50; i++) {
    for (const r of create) {
      const t = process.hrtime.bigint();
      engine.evalRule('data.agent_policy.CreateContainerRequest', { input: r.request });
      createTimes.push(ms(process.hrtime.bigint() - t));
    }
  }
  createTimes.sort((a, b) => a - b);
  console.log(
    `${name}: compile ${quantile(compileTimes, 0.5).toFixed(1)} ms (target < 40)   ` +
      `${requests.length} requests x ${rounds}: median ${quantile(times, 0.5).toFixed(3)} ms (target < 0.3), p99 ${quantile(times, 0.99).toFixed(3)} ms   ` +
      `CreateContainerRequest median ${quantile(createTimes, 0.5).toFixed(3)} ms`,
  );
}
