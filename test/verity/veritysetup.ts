/** Root hash as `veritysetup format --no-superblock` computes it (the peer our tree must match). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ZERO_SALT = '0'.repeat(64);

export function veritysetupRootHashOfFile(dataFile: string, hashFile: string): string {
  const r = spawnSync('veritysetup', ['format', '--no-superblock', '--salt', ZERO_SALT, '--data-block-size', '4096',
    '--hash-block-size', '4096', dataFile, hashFile], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`veritysetup failed: ${r.stderr}`);
  const match = /Root hash:\s+([0-9a-f]{64})/.exec(r.stdout);
  if (!match) throw new Error(`no root hash in veritysetup output: ${r.stdout}`);
  return match[1];
}

export function veritysetupRootHash(data: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'confcom-verity-'));
  try {
    writeFileSync(join(dir, 'data'), data);
    return veritysetupRootHashOfFile(join(dir, 'data'), join(dir, 'hash'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
