/** Owned chunks go to workers without a copy; the root hash equals the single-thread tree's. */
import { randomFillSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ParallelVerityHasher } from '../../src/verity/parallel.js';
import { VerityHasher } from '../../src/verity/tree.js';

const MIB = 1 << 20;

/** A chunk that owns its whole ArrayBuffer, as fs read streams deliver them. */
function ownedChunk(size: number): Buffer {
  return randomFillSync(Buffer.allocUnsafeSlow(size));
}

describe('ParallelVerityHasher with owned chunks', () => {
  it('hashes transferred whole chunks, copied partial ones and a tail to the same root', async () => {
    const sizes = [4 * MIB, 4 * MIB, 4 * MIB + 4096, 1000, 4 * MIB, 2 * MIB, 4 * MIB, 777];
    const chunks = sizes.map(ownedChunk);
    const expected = new VerityHasher();
    for (const c of chunks) expected.update(c);
    const root = expected.digest().toString('hex');

    const hasher = new ParallelVerityHasher({ workers: 1 });
    let transferred = 0;
    for (const c of chunks) {
      await hasher.update(c, { owned: true });
      if (c.buffer.byteLength === 0) transferred++; // detached: it went to the worker whole
    }
    expect((await hasher.digest()).toString('hex')).toBe(root);
    expect(transferred).toBeGreaterThan(0);
  });

  it('never detaches a chunk that is not given away', async () => {
    const chunk = ownedChunk(8 * MIB);
    const hasher = new ParallelVerityHasher({ workers: 1 });
    await hasher.update(chunk);
    await hasher.update(ownedChunk(8 * MIB));
    await hasher.digest();
    expect(chunk.buffer.byteLength).toBe(8 * MIB);
  });
});

describe('verityRootHashOfFile', () => {
  it('equals the single-thread tree over the file, and over its first whole blocks when given a length', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { verityRootHashOfFile } = await import('../../src/verity/parallel.js');
    const dir = mkdtempSync(join(tmpdir(), 'confcom-verity-file-'));
    try {
      const data = ownedChunk(13 * MIB + 5000);
      const file = join(dir, 'data');
      writeFileSync(file, data);
      expect(await verityRootHashOfFile(file)).toBe(new VerityHasher().update(data).digest().toString('hex'));
      const whole = data.length - (data.length % 4096);
      expect(await verityRootHashOfFile(file, whole)).toBe(new VerityHasher().update(data.subarray(0, whole)).digest().toString('hex'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
