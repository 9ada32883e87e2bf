/**
 * One Rego decision benchmark in a fresh process (spawned by bench/rego.ts), so the first decision is
 * measured cold, as the agent meets it. argv: <engine index.js> <policy dir>. Prints one JSON line.
 * The engine is imported by path: the same worker drives the current engine and a baseline build.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Engine {
  addModule(text: string, file: string, options: { syntax: 'v0' }): void;
  setData(data: unknown): void;
  evalRule(ref: string, options: { input: unknown }): { value: unknown };
}

const [enginePath, dir] = process.argv.slice(2);
const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;
/** CPU time of this process (all its threads: JIT and GC helpers count) since `from`, in ms. */
const cpuMs = (from: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
};
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

const policy = readFileSync(join(dir, 'policy.rego'), 'utf8');
const requests = readFileSync(join(dir, 'requests.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as { kind: string; request: unknown });
const create = requests.filter((r) => r.kind === 'CreateContainerRequest');

let t = process.hrtime.bigint();
const { RegoEngine } = (await import(pathToFileURL(enginePath).href)) as { RegoEngine: new () => Engine };
const importMs = ms(t);
/**
 * Loading as the agent's PolicyEnforcer does on SetPolicy: parse, compile, set the state, and read
 * AllowRequestsFailingPolicy (its first evaluation, which also runs the check stage where there is one).
 */
const load = (): Engine => {
  const e = new RegoEngine();
  e.addModule(policy, 'policy.rego', { syntax: 'v0' });
  e.setData({ pstate: {} });
  e.evalRule('data.agent_policy.AllowRequestsFailingPolicy', { input: {} });
  return e;
};
let cpu = process.cpuUsage();
t = process.hrtime.bigint();
const engine = load();
const loadMs = ms(t);
const loadCpuMs = cpuMs(cpu);
// The agent's first CreateContainerRequest after SetPolicy: cold code, cold caches.
cpu = process.cpuUsage();
t = process.hrtime.bigint();
const first = engine.evalRule('data.agent_policy.CreateContainerRequest', { input: create[create.length - 1].request }).value;
const firstMs = ms(t);
const firstCpuMs = cpuMs(cpu);

// The same policy handed over again (a repeated SetPolicy): cached by hash where the engine does so.
t = process.hrtime.bigint();
load();
const reloadMs = ms(t);

const decisions: unknown[] = create.map((r) => engine.evalRule('data.agent_policy.CreateContainerRequest', { input: r.request }).value);
for (let i = 0; i < 30; i++) for (const r of create) engine.evalRule('data.agent_policy.CreateContainerRequest', { input: r.request });
const createTimes: number[] = [];
// CPU time of this process per decision as well: on a shared, overloaded machine wall time also counts
// the time other processes hold the CPU.
const createCpu: number[] = [];
for (let i = 0; i < 200; i++) {
  for (const r of create) {
    cpu = process.cpuUsage();
    t = process.hrtime.bigint();
    engine.evalRule('data.agent_policy.CreateContainerRequest', { input: r.request });
    createTimes.push(ms(t));
    createCpu.push(cpuMs(cpu));
  }
}
const allTimes: number[] = [];
for (let i = 0; i < 10; i++) {
  for (const r of requests) {
    t = process.hrtime.bigint();
    engine.evalRule(`data.agent_policy.${r.kind}`, { input: r.request });
    allTimes.push(ms(t));
  }
}
console.log(
  JSON.stringify({
    importMs,
    loadMs,
    loadCpuMs,
    reloadMs,
    firstMs,
    firstCpuMs,
    firstDecision: first,
    decisions,
    createMedian: quantile(createTimes, 0.5),
    createP99: quantile(createTimes, 0.99),
    createCpuMedian: quantile(createCpu, 0.5),
    createCpuP99: quantile(createCpu, 0.99),
    allMedian: quantile(allTimes, 0.5),
    allP99: quantile(allTimes, 0.99),
  }),
);
