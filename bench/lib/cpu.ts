/**
 * CPU time (user + system) of a child process, reported by the child itself at exit through a tiny
 * preload, so `node -e 0` and confcom are measured the same way. Median of several runs.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function cpuPreload(dir: string): string {
  const preload = join(dir, 'cpu.cjs');
  writeFileSync(preload, "process.on('exit', () => require('node:fs').writeSync(3, JSON.stringify(process.cpuUsage())));\n");
  return preload;
}

export function childCpuMs(preload: string, args: string[]): number {
  const r = spawnSync(process.execPath, ['-r', preload, ...args], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const usage = JSON.parse(String(r.output[3])) as { user: number; system: number };
  return (usage.user + usage.system) / 1000;
}

export function medianCpuMs(preload: string, args: string[], runs: number): number {
  const times = Array.from({ length: runs }, () => childCpuMs(preload, args)).sort((a, b) => a - b);
  return times[Math.floor(runs / 2)];
}
