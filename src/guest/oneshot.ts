/**
 * One-shot (init-container) mode: fetch one resource and write it to a file (meant for a tmpfs
 * `emptyDir: {medium: Memory}`) with mode 0400, created exclusively so an existing file is never
 * overwritten or followed as a symlink; the bytes reach only that file.
 */
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { GuestFlowError } from './errors.js';

export async function writeSecretFile(path: string, secret: Buffer): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}`);
  let handle;
  try {
    handle = await open(tmp, 'wx', 0o400);
    await handle.writeFile(secret);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw new GuestFlowError('write', 'secret_write_failed', `cannot write the secret file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { location: { file: path } });
  }
}
