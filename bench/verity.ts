/**
 * dm-verity throughput against veritysetup on the same 1 GiB random file, and peak memory (RSS) while
 * pinning a generated 1 GiB layer tar (tar parsing + tarfs index + verity) in a fresh child process.
 * Targets: ratio ≥ 1.0; `verity hash` (reused buffers, fresh process) peak RSS < 64 MiB; pinLayer peak
 * RSS < 200 MB. Temporary files are removed on exit.
 */
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinLayer } from '../src/verity/layer.js';
import { ParallelVerityHasher, verityRootHashOfFile } from '../src/verity/parallel.js';

const GIB = 1 << 30;
const CHUNK = 16 << 20;

/**
 * Peak RSS of this process in MB. Linux's VmHWM belongs to the process image; getrusage's maxRSS
 * survives exec, so a child spawned from a big parent would report the parent's peak.
 */
function peakRssMb(): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** Child mode: the `verity hash` path over FILE (reused buffers, measured worker count), with its time and peak RSS. */
async function childHashFile(file: string): Promise<void> {
  const started = process.hrtime.bigint();
  const stats: { workers?: number } = {};
  const rootHash = await verityRootHashOfFile(file, undefined, stats);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ seconds, peakMb: peakRssMb(), rootHash, workers: stats.workers }));
}

/** Child mode: pin a generated 1 GiB layer and print the peak RSS. */
async function childPinLayer(): Promise<void> {
  const started = process.hrtime.bigint();
  const pin = await pinLayer(generatedLayer(GIB));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peakMb = peakRssMb();
  console.log(JSON.stringify({ seconds, peakMb, tarSize: pin.tarSize, rootHash: pin.rootHash }));
}

/** A layer of about `size` bytes: 10 000 small files and 1 MiB files, streamed (never in memory). */
async function* generatedLayer(size: number): AsyncGenerator<Buffer> {
  const { tarHeader } = await import('../test/verity/tar-build.js');
  const big = randomFillSync(Buffer.alloc(1 << 20));
  for (let i = 0; i < 10_000; i++) {
    const data = big.subarray(i, i + 300);
    yield Buffer.concat([tarHeader({ name: `small/${i % 100}/f${i}` }, data.length), data, Buffer.alloc(512 - data.length)]);
  }
  for (let i = 0, written = 0; written < size; i++, written += big.length + 512) {
    yield tarHeader({ name: `big/${i}.bin` }, big.length);
    yield big;
  }
  yield Buffer.alloc(1024);
}

function veritysetupRootHash(dataFile: string, hashFile: string): string {
  const r = spawnSync('veritysetup', ['format', '--no-superblock', '--salt', '0'.repeat(64), '--data-block-size', '4096',
    '--hash-block-size', '4096', dataFile, hashFile], { encoding: 'utf8' });
  const root = /Root hash:\s+([0-9a-f]{64})/.exec(r.stdout)?.[1];
  if (!root) throw new Error(`veritysetup failed: ${r.stderr}`);
  return root;
}

function megabytesPerSecond(bytes: number, seconds: number): number {
  return bytes / 1e6 / seconds;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'confcom-bench-verity-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  process.on('exit', cleanup);
  process.on('SIGINT', () => process.exit(130));
  try {
    const data = join(dir, 'data');
    const fd = openSync(data, 'w');
    const buffer = Buffer.alloc(CHUNK);
    for (let written = 0; written < GIB; written += CHUNK) writeSync(fd, randomFillSync(buffer));
    fsyncSync(fd); // so write-back does not run during the timed reads
    closeSync(fd);

    const self = fileURLToPath(import.meta.url);
    const loader = self.endsWith('.ts') ? ['--import', 'tsx'] : []; // compiled by scripts/bench.mjs, or run from source
    /** `verity hash`'s path in a fresh process, timed from here (start-up included, as veritysetup's). */
    const freshProcess = (): { seconds: number; peakMb: number; workers: number; rootHash: string } => {
      const started = process.hrtime.bigint();
      const run = spawnSync(process.execPath, [...loader, self, '--child-hash', data], { encoding: 'utf8' });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (run.status !== 0) throw new Error(`hash child failed: ${run.stderr}`);
      return { ...(JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as { peakMb: number; workers: number; rootHash: string }), seconds };
    };

    // Ours and veritysetup alternately, best of three each after one untimed pass (page cache): the
    // machine is shared and noisy, so each figure is its best run and the pairs run back to back.
    freshProcess();
    const hasVeritysetup = spawnSync('sh', ['-c', 'command -v veritysetup']).status === 0;
    if (!hasVeritysetup) console.log('NOTICE: veritysetup is not installed: no comparison');
    let ours = { seconds: Infinity, peakMb: 0, workers: 0, rootHash: '' };
    const choices: number[] = [];
    let peakMb = 0;
    let theirSeconds = Infinity;
    for (let round = 0; round < 3; round++) {
      const run = freshProcess();
      choices.push(run.workers);
      peakMb = Math.max(peakMb, run.peakMb);
      if (run.seconds < ours.seconds) ours = run;
      if (!hasVeritysetup) continue;
      const started = process.hrtime.bigint();
      const theirs = veritysetupRootHash(data, join(dir, 'hash'));
      theirSeconds = Math.min(theirSeconds, Number(process.hrtime.bigint() - started) / 1e9);
      if (theirs !== run.rootHash) throw new Error(`root hash mismatch: ours ${run.rootHash}, veritysetup ${theirs}`);
    }
    const oursMbs = megabytesPerSecond(GIB, ours.seconds);
    const theirMbs = megabytesPerSecond(GIB, theirSeconds);
    console.log(
      `verity hash 1 GiB, fresh processes, best of 3: confcom ${oursMbs.toFixed(0)} MB/s, veritysetup ${theirMbs.toFixed(0)} MB/s, ratio ${(oursMbs / theirMbs).toFixed(2)} (target >= 1.00); root hashes equal`,
    );
    console.log(`  peak RSS of confcom over the runs: ${peakMb.toFixed(1)} MB (target < 64 MiB = 67.1 MB); measured worker choice on ${availableParallelism()} CPUs: ${choices.join(', ')}`);
    for (const workers of [0, 1, 'auto'] as const) {
      const started = process.hrtime.bigint();
      const hasher = new ParallelVerityHasher({ workers });
      for await (const chunk of createReadStream(data, { highWaterMark: 1 << 20 })) await hasher.update(chunk as Buffer, { owned: true });
      await hasher.digest();
      console.log(`  in this process, calling thread + ${workers === 'auto' ? `measured (${hasher.workers})` : workers} worker(s): ${megabytesPerSecond(GIB, Number(process.hrtime.bigint() - started) / 1e9).toFixed(0)} MB/s`);
    }
    const child = spawnSync(process.execPath, [...loader, self, '--child-pin-layer'], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`layer child failed: ${child.stderr}`);
    const result = JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as { seconds: number; peakMb: number; tarSize: number };
    console.log(`pinLayer ${(result.tarSize / GIB).toFixed(2)} GiB generated layer: ${megabytesPerSecond(result.tarSize, result.seconds).toFixed(0)} MB/s, peak RSS ${result.peakMb.toFixed(0)} MB (target < 200 MB)`);
  } finally {
    cleanup();
  }
}

if (process.argv.includes('--child-pin-layer')) await childPinLayer();
else if (process.argv.includes('--child-hash')) await childHashFile(process.argv[process.argv.indexOf('--child-hash') + 1]);
else await main();
