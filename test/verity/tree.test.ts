import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { VerityHasher, verityRootHash } from '../../src/verity/tree.js';
import { hasTool } from '../helpers/tools.js';

const ZERO_SALT = '0'.repeat(64);

/** Root hash as veritysetup computes it (hash tree written to a throw-away file). */
function veritysetupRootHash(data: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'confcom-verity-'));
  try {
    writeFileSync(join(dir, 'data'), data);
    const r = spawnSync('veritysetup', ['format', '--no-superblock', '--salt', ZERO_SALT, '--data-block-size', '4096',
      '--hash-block-size', '4096', join(dir, 'data'), join(dir, 'hash')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`veritysetup failed: ${r.stderr}`);
    const match = /Root hash:\s+([0-9a-f]{64})/.exec(r.stdout);
    if (!match) throw new Error(`no root hash in veritysetup output: ${r.stdout}`);
    return match[1];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!hasTool('veritysetup'))('dm-verity tree against veritysetup', () => {
  for (const size of [4096, 8192, 129 * 4096, 1 << 20]) {
    it(`matches for ${size} random bytes`, () => {
      const data = randomBytes(size);
      expect(verityRootHash(data)).toBe(veritysetupRootHash(data));
    });
  }

  it('zero-pads a partial last block and matches veritysetup on the padded bytes', () => {
    const data = randomBytes(3 * 4096 + 100);
    const padded = Buffer.concat([data, Buffer.alloc(4096 - 100)]);
    expect(verityRootHash(data)).toBe(veritysetupRootHash(padded));
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

  it('refuses empty input', () => {
    expect(() => new VerityHasher().digest()).toThrow(/empty input/);
  });
});
