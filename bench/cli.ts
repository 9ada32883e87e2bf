/**
 * Start-up cost of the CLI: CPU time (user + system) of `confcom --help` and `confcom policy hash`
 * against `node -e 0`, side by side, median of several runs. Target: both within 2x of bare node.
 * Each child reports its own process.cpuUsage() at exit through a tiny preload, the same for all three.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNS = 9;
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'confcom-bench-cli-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

const preload = join(work, 'cpu.cjs');
writeFileSync(preload, "process.on('exit', () => require('node:fs').writeSync(3, JSON.stringify(process.cpuUsage())));\n");
const manifest = join(work, 'pod.yaml');
const policy = Buffer.from('package agent_policy\n\ndefault AllowRequestsFailingPolicy := false\n').toString('base64');
writeFileSync(manifest, `apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\n  annotations:\n    io.katacontainers.config.agent.policy: ${policy}\nspec:\n  runtimeClassName: kata-cc\n  containers:\n    - name: app\n      image: busybox\n`);

function cpuMs(args: string[]): number {
  const r = spawnSync(process.execPath, ['-r', preload, ...args], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const usage = JSON.parse(String(r.output[3])) as { user: number; system: number };
  return (usage.user + usage.system) / 1000;
}

function median(args: string[]): number {
  const times = Array.from({ length: RUNS }, () => cpuMs(args)).sort((a, b) => a - b);
  return times[Math.floor(RUNS / 2)];
}

const base = median(['-e', '0']);
const rows: [string, number][] = [
  ['node -e 0', base],
  ['confcom --help', median([MAIN, '--help'])],
  ['confcom policy hash', median([MAIN, 'policy', 'hash', manifest])],
];
console.log(`CLI start-up, CPU ms (median of ${RUNS}); target: within 2.00x of node -e 0`);
for (const [name, ms] of rows) {
  const ratio = ms / base;
  const verdict = name === 'node -e 0' ? '' : ratio <= 2 ? '  ok' : '  SLOWER THAN TARGET';
  console.log(`  ${name.padEnd(22)} ${ms.toFixed(0).padStart(5)} ms  ${ratio.toFixed(2)}x${verdict}`);
}
