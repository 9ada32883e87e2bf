/**
 * CreateContainerRequest decisions on the recorded Kata policies (../shared/kata-requests), before and
 * after, side by side in one run. "before" is the engine as of the commit BEFORE the compiled-engine
 * work (REGO_BENCH_BASE, default below), extracted with `git archive` and compiled by tsc into
 * .bench-dist/base-<commit>; "after" is this tree's compiled engine. Each (engine, policy) runs in its
 * own fresh process (bench/lib/rego-worker.ts), one after the other, so both meet the same machine and
 * the first decision is cold. Both must give the same decisions. "load" is what the agent does on
 * SetPolicy (parse, compile, check, read AllowRequestsFailingPolicy); "first decision" is the first
 * CreateContainerRequest after it.
 * Targets: median < 1 ms, p99 < 3 ms, first decision < 30 ms.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';

const BASE = process.env.REGO_BENCH_BASE ?? '6581fe0';
const shared = process.env.CONFCOM_SHARED_DIR ?? join(process.cwd(), '..', 'shared');
const dir = join(shared, 'kata-requests');
if (!existsSync(dir)) {
  console.log(`NOTICE: ${dir} is absent: Rego benchmark skipped`);
  process.exit(0);
}

/** Builds the baseline engine once per commit; undefined (with a notice) when git cannot give it. */
function baselineEngine(): string | undefined {
  let commit: string;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', BASE], { encoding: 'utf8' }).trim();
  } catch {
    console.log(`NOTICE: baseline commit ${BASE} is not in this repository: "before" column skipped`);
    return undefined;
  }
  const root = resolve('.bench-dist', `base-${commit}`);
  const index = join(root, 'out', 'rego', 'index.js');
  if (existsSync(index)) return index;
  mkdirSync(root, { recursive: true });
  execFileSync('sh', ['-c', `git archive ${commit} src tsconfig.json package.json | tar -x -C "${root}"`]);
  writeFileSync(join(root, 'tsconfig.base.json'), JSON.stringify({ extends: './tsconfig.json', compilerOptions: { rootDir: 'src', outDir: 'out', declaration: false, sourceMap: false }, include: ['src/rego/index.ts'] }));
  execFileSync(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.base.json')], { stdio: 'inherit' });
  execFileSync(process.execPath, [resolve('scripts/copy-assets.mjs'), join(root, 'out')], { stdio: 'inherit' });
  // The baseline resolves npm packages from this tree's node_modules.
  execFileSync('ln', ['-sfn', resolve('node_modules'), join(root, 'node_modules')]);
  return index;
}

interface Run {
  importMs: number;
  loadMs: number;
  loadCpuMs: number;
  reloadMs: number;
  firstMs: number;
  firstCpuMs: number;
  firstDecision: unknown;
  decisions: unknown[];
  createMedian: number;
  createP99: number;
  createCpuMedian: number;
  createCpuP99: number;
  allMedian: number;
  allP99: number;
}

function run(engine: string, policy: string): Run {
  const r = spawnSync(process.execPath, [resolve('.bench-dist/bench/lib/rego-worker.js'), engine, join(dir, policy)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`rego worker failed for ${engine} ${policy}:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Run;
}

/**
 * Fresh processes per engine and policy, run alternately; each figure is the median over them. A cold
 * figure is one sample per process, and a single sample swings with what the machine's other core and
 * V8's background threads (compiler, concurrent marking left over from the load) are doing.
 */
const RUNS = Math.max(1, Number(process.env.REGO_BENCH_RUNS ?? 3));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const base = baselineEngine();
const current = resolve('.bench-dist/src/rego/index.js');
const f = (x: number) => x.toFixed(3).padStart(8);
const rows: string[] = [];
let mismatch = false;
console.log(`CreateContainerRequest decisions (ms); before = ${BASE}, after = this tree; each figure the median of ${RUNS} fresh processes (REGO_BENCH_RUNS)`);
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs (wall times include waiting for the CPU; CPU rows do not)`);
console.log('policy           metric                        before     after   target');
for (const name of ['k8s-policy-pod', 'pod-exec']) {
  const afterRuns: Run[] = [];
  const beforeRuns: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    afterRuns.push(run(current, name));
    if (base) beforeRuns.push(run(base, name));
  }
  const decisions = JSON.stringify(afterRuns[0].decisions);
  if ([...afterRuns, ...beforeRuns].some((r) => JSON.stringify(r.decisions) !== decisions)) mismatch = true;
  const line = (metric: string, pick: (r: Run) => number, target: string) =>
    rows.push(`${name.padEnd(16)} ${metric.padEnd(28)} ${base ? f(median(beforeRuns.map(pick))) : '       -'}  ${f(median(afterRuns.map(pick)))}   ${target}`);
  const spread = (runs: Run[]) => `${Math.min(...runs.map((r) => r.firstMs)).toFixed(1)}-${Math.max(...runs.map((r) => r.firstMs)).toFixed(1)}`;
  line('CreateContainer median', (r) => r.createMedian, '< 1');
  line('CreateContainer p99', (r) => r.createP99, '< 3');
  line('CreateContainer CPU median', (r) => r.createCpuMedian, '');
  line('CreateContainer CPU p99', (r) => r.createCpuP99, '');
  line('first decision (cold)', (r) => r.firstMs, '< 30');
  line('first decision CPU (cold)', (r) => r.firstCpuMs, '');
  line('import engine (cold)', (r) => r.importMs, '');
  line('load as SetPolicy (cold)', (r) => r.loadMs, '');
  line('load as SetPolicy CPU (cold)', (r) => r.loadCpuMs, '');
  line('load same policy again', (r) => r.reloadMs, '');
  line('all requests median', (r) => r.allMedian, '');
  line('all requests p99', (r) => r.allP99, '');
  rows.push(`${name.padEnd(16)} first decision over ${RUNS} processes: ${base ? `before ${spread(beforeRuns)}, ` : ''}after ${spread(afterRuns)} ms`);
  console.log(rows.splice(0).join('\n'));
}
if (mismatch) {
  console.log('FAIL: the two engines decided differently');
  process.exit(1);
}
