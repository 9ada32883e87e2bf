/**
 * dm-verity hashing on worker threads. node:crypto has no multi-buffer API, so one thread tops out
 * near 1.1 GB/s on 4096-byte blocks (the per-call overhead dominates); veritysetup does ~1 GB/s.
 * Hashing the data blocks (level 0, over 99% of the work) on workers lets the main thread read and
 * parse while the blocks are hashed, and uses every core. The upper levels stay on the main thread.
 *
 * Input is cut into 1 MiB segments (block-aligned; small, as memory is what the segments in flight hold); the calling thread hashes one segment in
 * (workers + 1) itself and transfers (not copies) the others to workers, which return the segment's
 * block digests; results are fed to the tree in submission order. At most two
 * segments per worker are in flight and at most that many (plus two) spare buffers are kept, so memory
 * stays constant (a worker's isolate is capped small too). Small inputs never start a worker.
 *
 * Whether workers pay off depends on the machine and its load (on 2 busy cores one worker was slower
 * than none), so by default the count is measured: one core means none; otherwise the first segments
 * are hashed on the calling thread alone, the next ones with the workers, and the faster way (wall time
 * per segment, reading included) is kept for the rest.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { BlockHasher, VERITY_BLOCK_SIZE, VERITY_SALT, VerityHasher } from './tree.js';

export const SEGMENT_SIZE = 1 << 20;
const IN_FLIGHT_PER_WORKER = 2;
/** Segments timed on the calling thread alone, then with the workers, before choosing. */
export const CALIBRATE_MAIN = 16;
export const CALIBRATE_POOL = 32;
/** The workers must beat the calling thread alone by this much to be kept (they cost memory). */
const POOL_ADVANTAGE = 0.9;

/** Plain JavaScript (evaluated) so it runs the same from source under tsx/vitest and from dist. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
// The digest as a latin1 string lives on the worker's small heap; a Buffer per block would be an
// off-heap allocation each, freed only when the sweeper gets to it, and would raise the peak RSS.
const digestText = typeof crypto.hash === 'function' ? (d) => crypto.hash('sha256', d, 'latin1') : (d) => crypto.createHash('sha256').update(d).digest('latin1');
const scratch = Buffer.alloc(workerData.salt.length + ${VERITY_BLOCK_SIZE});
scratch.set(workerData.salt);
parentPort.on('message', ({ id, buffer, length }) => {
  const data = new Uint8Array(buffer, 0, length);
  const blocks = length / ${VERITY_BLOCK_SIZE};
  const out = Buffer.allocUnsafeSlow(blocks * 32);
  for (let i = 0; i < blocks; i++) {
    scratch.set(data.subarray(i * ${VERITY_BLOCK_SIZE}, (i + 1) * ${VERITY_BLOCK_SIZE}), workerData.salt.length);
    out.write(digestText(scratch), i * 32, 32, 'latin1');
  }
  // The data buffer goes back too, so the caller reuses it: memory stays a fixed set of segments.
  parentPort.postMessage({ id, digests: out.buffer, buffer }, [out.buffer, buffer]);
});
`;

/** A chunk that can be handed to a worker whole: block-aligned, and the only view of its own buffer. */
function isTransferable(chunk: Uint8Array): boolean {
  return (
    chunk.byteOffset === 0 &&
    chunk.byteLength === chunk.buffer.byteLength &&
    chunk.length >= VERITY_BLOCK_SIZE &&
    chunk.length % VERITY_BLOCK_SIZE === 0 &&
    !(chunk.buffer instanceof SharedArrayBuffer)
  );
}

interface Pending {
  resolve(result: { digests: Uint8Array; buffer: ArrayBuffer }): void;
  reject(error: unknown): void;
}

class HashPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: unknown;

  constructor(size: number, salt: Buffer) {
    this.workers = Array.from({ length: size }, () => {
      // The worker holds no more than a segment and its digests: a small heap keeps its isolate's RSS down.
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { salt: Uint8Array.from(salt) }, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 } });
      worker.unref();
      worker.on('message', ({ id, digests, buffer }: { id: number; digests: ArrayBuffer; buffer: ArrayBuffer }) => {
        const entry = this.pending.get(id);
        this.pending.delete(id);
        entry?.resolve({ digests: new Uint8Array(digests), buffer });
      });
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => {
        if (this.pending.size > 0) this.fail(new Error(`verity hash worker exited with code ${code}`));
      });
      return worker;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** Digests of the whole blocks of `segment`, whose buffer is handed over (detached). */
  hash(segment: Buffer): Promise<{ digests: Uint8Array; buffer: ArrayBuffer }> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const worker = this.workers[id % this.workers.length];
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, buffer: segment.buffer, length: segment.length }, [segment.buffer as ArrayBuffer]);
    });
  }

  private fail(error: unknown): void {
    this.failure ??= error;
    for (const entry of this.pending.values()) entry.reject(error);
    this.pending.clear();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export interface ParallelVerityOptions {
  /**
   * Worker threads besides the calling thread. 0 hashes on the calling thread only. 'auto' (default):
   * none on one CPU, else up to CPUs − 1 (at most 3), kept only when measured faster than none.
   */
  workers?: number | 'auto';
  /** CPUs to plan for (tests); default availableParallelism(). */
  cpus?: number;
  /** The clock the measurement reads (tests); default process.hrtime.bigint. */
  clock?: () => bigint;
}

/** The streaming dm-verity hasher, hashing data blocks on worker threads. Call `close()` when done. */
export class ParallelVerityHasher {
  private readonly tree = new VerityHasher();
  private workerCount: number;
  /** Measuring the calling thread alone, then the workers; 'decided' once the faster is chosen. */
  private phase: 'main' | 'pool' | 'decided';
  private phaseStarted = 0n;
  private mainNsPerSegment = 0;
  private readonly clock: () => bigint;
  private pool: HashPool | undefined;
  private segment: Buffer = Buffer.allocUnsafeSlow(SEGMENT_SIZE);
  private fill = 0;
  private readonly inFlight: Promise<Uint8Array>[] = [];
  private segments = 0;
  private readonly mainBlocks = new BlockHasher(VERITY_SALT);
  /** Segment buffers the workers gave back, for reuse. */
  private readonly spare: Buffer[] = [];

  /** A segment-sized buffer to fill and pass back with `update(..., { owned: true })`. */
  borrowBuffer(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafeSlow(SEGMENT_SIZE);
  }

  constructor(options: ParallelVerityOptions = {}) {
    const auto = options.workers === undefined || options.workers === 'auto';
    this.workerCount = auto ? Math.max(0, Math.min(3, (options.cpus ?? availableParallelism()) - 1)) : (options.workers as number);
    this.phase = auto && this.workerCount > 0 ? 'main' : 'decided';
    this.clock = options.clock ?? process.hrtime.bigint;
  }

  /** Worker threads in use: the measured choice once made (until then, the candidates). */
  get workers(): number {
    return this.workerCount;
  }

  private get maxSpare(): number {
    return this.workerCount * IN_FLIGHT_PER_WORKER + 2;
  }

  /**
   * Feeds bytes. With `owned`, the caller gives the chunk away: a whole-segment, block-aligned chunk
   * that owns its ArrayBuffer (as fs read streams deliver them) is transferred to a worker as it is,
   * skipping the copy into a segment. Without it, the chunk is copied and stays the caller's.
   */
  async update(chunk: Uint8Array, options: { owned?: boolean } = {}): Promise<void> {
    // Alone (chosen, or measured better): straight into the tree, once nothing earlier is pending.
    if (this.workerCount === 0 && this.fill === 0) {
      while (this.inFlight.length > 0) await this.takeOne();
      this.tree.update(chunk);
      if (options.owned && chunk.length === SEGMENT_SIZE && Buffer.isBuffer(chunk) && this.spare.length < this.maxSpare) this.spare.push(chunk);
      return;
    }
    if (options.owned && this.fill === 0 && isTransferable(chunk)) {
      await this.dispatch(Buffer.from(chunk.buffer, 0, chunk.length));
      return;
    }
    for (let at = 0; at < chunk.length; ) {
      const n = Math.min(SEGMENT_SIZE - this.fill, chunk.length - at);
      this.segment.set(chunk.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === SEGMENT_SIZE) {
        if (await this.dispatch(this.segment)) this.segment = this.borrowBuffer();
        this.fill = 0;
      }
    }
  }

  /** Hashes a block-aligned segment here or on a worker; true when its buffer was handed to a worker (it comes back as a spare). */
  private async dispatch(segment: Buffer): Promise<boolean> {
    // Started at once, so its start-up overlaps the calling thread's measured segments.
    this.pool ??= new HashPool(this.workerCount, VERITY_SALT);
    const n = this.segments++;
    if (this.phase !== 'decided') await this.measure(n);
    let handedOver = false;
    // The calling thread takes one segment in (workers + 1): every core hashes, none is oversubscribed.
    if (this.workerCount === 0 || this.phase === 'main' || n % (this.workerCount + 1) === 0) {
      this.inFlight.push(Promise.resolve(this.mainBlocks.hashAll(segment)));
      if (segment.length === SEGMENT_SIZE && segment !== this.segment && this.spare.length < this.maxSpare) this.spare.push(segment);
    } else {
      const digests = this.pool.hash(segment).then(({ digests, buffer }) => {
        if (buffer.byteLength === SEGMENT_SIZE && this.spare.length < this.maxSpare) this.spare.push(Buffer.from(buffer));
        return digests;
      });
      // Marked handled now: a worker may fail while we await an earlier segment; takeOne rethrows it.
      digests.catch(() => undefined);
      this.inFlight.push(digests);
      handedOver = true;
    }
    while (this.inFlight.length >= Math.max(1, this.workerCount) * IN_FLIGHT_PER_WORKER) await this.takeOne();
    return handedOver;
  }

  /** At segment `n`: closes a measuring phase, and after the second keeps the faster way. */
  private async measure(n: number): Promise<void> {
    const now = this.clock();
    if (n === 0) this.phaseStarted = now;
    if (n === CALIBRATE_MAIN) {
      this.mainNsPerSegment = Number(now - this.phaseStarted) / CALIBRATE_MAIN;
      this.phase = 'pool';
      this.phaseStarted = now;
    } else if (n === CALIBRATE_MAIN + CALIBRATE_POOL) {
      const poolNsPerSegment = Number(now - this.phaseStarted) / CALIBRATE_POOL;
      this.phase = 'decided';
      if (poolNsPerSegment < this.mainNsPerSegment * POOL_ADVANTAGE) return;
      // Not worth it here: finish what the workers hold, stop them, go on alone.
      while (this.inFlight.length > 0) await this.takeOne();
      await this.pool?.close();
      this.pool = undefined;
      this.workerCount = 0;
      this.spare.splice(this.maxSpare);
    }
  }

  private async takeOne(): Promise<void> {
    this.tree.addDataBlockDigests(await (this.inFlight.shift() as Promise<Uint8Array>));
  }

  /** The root hash (32 bytes). Closes the workers. */
  async digest(): Promise<Buffer> {
    try {
      while (this.inFlight.length > 0) await this.takeOne();
      this.tree.update(this.segment.subarray(0, this.fill));
      return this.tree.digest();
    } finally {
      await this.close();
    }
  }

  /** Stops the workers (safe to call more than once, and after a failure). */
  async close(): Promise<void> {
    // Settle what is in flight so no rejection goes unhandled.
    await Promise.allSettled(this.inFlight.splice(0));
    await this.pool?.close();
    this.pool = undefined;
  }
}

/**
 * Root hash of the first `length` bytes of a file (all of it by default), read into a fixed set of
 * reused segment buffers that travel to the workers and back: memory stays flat whatever the size.
 * A trailing partial block is zero-padded, as by the streaming hasher.
 *
 * The reads are synchronous: an asynchronous read goes through libuv's thread pool and a promise per
 * segment, and the loop waits for it anyway (measured on 256 MiB: 10-20% more throughput and a fifth
 * less CPU). Workers keep hashing while the calling thread reads.
 */
export async function verityRootHashOfFile(path: string, length?: number, stats?: { workers?: number }): Promise<string> {
  const fd = openSync(path, 'r');
  const hasher = new ParallelVerityHasher();
  try {
    // Without a length, read to the end (files in /proc and pipes report size 0 but have content).
    const end = length ?? Infinity;
    for (let position = 0; position < end; ) {
      const buffer = hasher.borrowBuffer();
      let filled = 0;
      while (filled < buffer.length && position + filled < end) {
        const bytesRead = readSync(fd, buffer, filled, Math.min(buffer.length - filled, end - position - filled), position + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled === 0) break;
      position += filled;
      await hasher.update(filled === buffer.length ? buffer : buffer.subarray(0, filled), { owned: true });
    }
    const root = (await hasher.digest()).toString('hex');
    if (stats) stats.workers = hasher.workers;
    return root;
  } finally {
    await hasher.close();
    closeSync(fd);
  }
}
