import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTarfsIndex } from '../../src/verity/layer.js';
import { runConfcom } from '../helpers/cli.js';
import { hasTool } from '../helpers/tools.js';
import { buildTar } from './tar-build.js';
import { veritysetupRootHash } from './veritysetup.js';

describe.skipIf(!hasTool('veritysetup'))('confcom verity hash', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'confcom-verity-cli-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the root hash veritysetup computes for the file', async () => {
    const data = randomBytes(5 * 4096);
    writeFileSync(join(dir, 'blob'), data);
    const r = await runConfcom(['verity', 'hash', join(dir, 'blob')]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(veritysetupRootHash(data));
  });

  it('on a file that is not a multiple of 4096 matches veritysetup (whole blocks) and says so; --pad pads', async () => {
    const data = randomBytes(3 * 4096 + 1808);
    const file = join(dir, 'odd');
    writeFileSync(file, data);
    const r = await runConfcom(['verity', 'hash', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(veritysetupRootHash(data));
    expect(r.stderr).toContain(`hashed its first ${3 * 4096} bytes (whole blocks) as veritysetup does`);
    const padded = await runConfcom(['--json', 'verity', 'hash', '--pad', file]);
    expect(padded.code, padded.stderr).toBe(0);
    const out = JSON.parse(padded.stdout) as { rootHash: string; padded: boolean; hashedBytes: number; note: string };
    const zeroPadded = Buffer.concat([data, Buffer.alloc(4096 - 1808)]);
    expect(out).toMatchObject({ rootHash: veritysetupRootHash(zeroPadded), padded: true, hashedBytes: data.length });
    expect(out.rootHash).not.toBe(r.stdout.trim());
    expect(out.note).toContain('zero-padded');
  });

  it('with --tarfs hashes the tar followed by its tarfs index', async () => {
    const tar = buildTar([{ name: 'etc/', type: '5', mode: 0o755 }, { name: 'etc/passwd', data: 'root:x:0:0\n' }]);
    writeFileSync(join(dir, 'layer.tar'), tar);
    const r = await runConfcom(['--json', 'verity', 'hash', '--tarfs', join(dir, 'layer.tar')]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ tarfs: true, size: tar.length, rootHash: veritysetupRootHash(Buffer.concat([tar, buildTarfsIndex(tar)])) });
  });

  it('refuses a file shorter than one block, and a truncated tar, with their codes', async () => {
    writeFileSync(join(dir, 'tiny'), 'abc');
    const tiny = await runConfcom(['verity', 'hash', join(dir, 'tiny')]);
    expect(tiny.code).toBe(2);
    expect(tiny.stderr).toContain('verity_input_too_small');
    writeFileSync(join(dir, 'cut.tar'), buildTar([{ name: 'f', data: 'x'.repeat(2000) }]).subarray(0, 1000));
    const cut = await runConfcom(['verity', 'hash', '--tarfs', join(dir, 'cut.tar')]);
    expect(cut.code).toBe(2);
    expect(cut.stderr).toContain('tar_truncated');
  });
});
