import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { ParallelVerityHasher } from '../../src/verity/parallel.js';
import { VerityHasher, verityRootHash, verityRootHashOfStream } from '../../src/verity/tree.js';
import { hasTool } from '../helpers/tools.js';
import { veritysetupRootHash } from './veritysetup.js';

describe.skipIf(!hasTool('veritysetup'))('dm-verity tree against veritysetup', () => {
  for (const [label, size] of [['4 KiB', 4096], ['8 KiB', 8192], ['129 blocks', 129 * 4096], ['1 MiB', 1 << 20], ['33 MiB + 4 KiB', (33 << 20) + 4096]] as const) {
    it(`matches for ${label} of random bytes`, async () => {
      const data = randomBytes(size);
      // Stream in uneven chunks so block boundaries fall inside chunks.
      async function* chunks(): AsyncGenerator<Buffer> {
        for (let at = 0; at < data.length; at += 1_000_003) yield data.subarray(at, at + 1_000_003);
      }
      expect(await verityRootHashOfStream(chunks())).toBe(veritysetupRootHash(data));
    }, 60_000);
  }

  it('zero-pads a partial last block and matches veritysetup on the padded bytes', () => {
    const data = randomBytes(3 * 4096 + 100);
    const padded = Buffer.concat([data, Buffer.alloc(4096 - 100)]);
    expect(verityRootHash(data)).toBe(veritysetupRootHash(padded));
  });

  it('matches veritysetup for random sizes (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4096, max: 300 * 4096 }), (size) => {
        const data = randomBytes(size);
        const padded = Buffer.concat([data, Buffer.alloc((4096 - (size % 4096)) % 4096)]);
        expect(verityRootHash(data)).toBe(veritysetupRootHash(padded));
      }),
      { numRuns: 12 },
    );
  });
});

describe('VerityHasher streaming', () => {
  it('gives the same root for any chunking', () => {
    const data = randomBytes(300 * 4096 + 17);
    const whole = verityRootHash(data);
    const hasher = new VerityHasher();
    for (let offset = 0; offset < data.length; ) {
      const n = 1 + Math.floor(Math.random() * 10000);
      hasher.update(data.subarray(offset, offset + n));
      offset += n;
    }
    expect(hasher.digest().toString('hex')).toBe(whole);
  });

  it('refuses input shorter than one block, as upstream', () => {
    expect(() => new VerityHasher().digest()).toThrow(expect.objectContaining({ code: 'verity_input_too_small' }));
    expect(() => verityRootHash(Buffer.alloc(4095))).toThrow(expect.objectContaining({ code: 'verity_input_too_small' }));
  });
});

describe('ParallelVerityHasher', () => {
  const data = randomBytes(9 * (4 << 20) + 12_345); // several 4 MiB segments and a partial block

  it('gives the single-thread root for any worker count and chunking (property)', async () => {
    const expected = verityRootHash(data);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 3 << 20 }), async (workers, chunkSize) => {
        const hasher = new ParallelVerityHasher({ workers });
        for (let at = 0; at < data.length; at += chunkSize) await hasher.update(data.subarray(at, at + chunkSize));
        expect((await hasher.digest()).toString('hex')).toBe(expected);
      }),
      { numRuns: 6 },
    );
  }, 60_000);
});
