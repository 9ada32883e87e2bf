/** The measured worker choice: none on one CPU, and the same root hash whichever way the measurement goes, chunk boundaries anywhere. */
import { randomFillSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CALIBRATE_MAIN, CALIBRATE_POOL, ParallelVerityHasher, SEGMENT_SIZE } from '../../src/verity/parallel.js';
import { VerityHasher } from '../../src/verity/tree.js';

const SEGMENT = SEGMENT_SIZE;
// Past both measuring phases by a few segments, ending in a partial block.
const DATA = randomFillSync(Buffer.alloc((CALIBRATE_MAIN + CALIBRATE_POOL + 6) * SEGMENT + 123_457));
const EXPECTED = (() => {
  const tree = new VerityHasher();
  tree.update(DATA);
  return tree.digest().toString('hex');
})();

/** A clock under test control, read once per segment while measuring: reading r advances it by `step(r)`. */
function fakeClock(step: (reading: number) => bigint): () => bigint {
  let t = 0n;
  let reading = 0;
  return () => (t += step(reading++));
}

async function rootOf(hasher: ParallelVerityHasher, chunkSize: number, owned = false): Promise<string> {
  for (let at = 0; at < DATA.length; at += chunkSize) {
    const chunk = DATA.subarray(at, at + chunkSize);
    await hasher.update(owned ? Buffer.from(chunk) : chunk, { owned });
  }
  return (await hasher.digest()).toString('hex');
}

describe('ParallelVerityHasher worker choice', () => {
  it('uses no worker on one CPU', async () => {
    const hasher = new ParallelVerityHasher({ cpus: 1 });
    expect(hasher.workers).toBe(0);
    expect(await rootOf(hasher, 1_000_003)).toBe(EXPECTED);
  });

  it('keeps the workers when they measure faster', async () => {
    // Segments of the first phase (calling thread alone) take 1000 units each, those with the worker 1 unit.
    const hasher = new ParallelVerityHasher({ cpus: 2, clock: fakeClock((r) => (r <= CALIBRATE_MAIN ? 1000n : 1n)) });
    expect(await rootOf(hasher, 1_000_003)).toBe(EXPECTED);
    expect(hasher.workers).toBe(1);
  });

  it('drops the workers mid-stream when they measure slower, hashing the same tree', async () => {
    for (const [chunk, owned] of [[1_000_003, false], [SEGMENT, true], [3 * SEGMENT + 5, false]] as const) {
      const hasher = new ParallelVerityHasher({ cpus: 2, clock: fakeClock((r) => (r <= CALIBRATE_MAIN ? 1n : 1000n)) });
      expect(await rootOf(hasher, chunk, owned)).toBe(EXPECTED);
      expect(hasher.workers).toBe(0);
    }
  });
});
