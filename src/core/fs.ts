/** File helpers: reads that fail with a clear InputError, and atomic writes (temp file + rename). */
import { randomBytes } from 'node:crypto';
import { promises as fsp, writeFileSync, renameSync, unlinkSync, readFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { fileError } from './errors.js';

/** Reads a file, turning ENOENT and friends into an InputError that names the file. */
export async function readInputFile(file: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (error) {
    throw fileError(file, error);
  }
}

export async function readInputText(file: string): Promise<string> {
  return (await readInputFile(file)).toString('utf8');
}

export function readInputTextSync(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw fileError(file, error);
  }
}

function tempNameFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Writes a file so that readers see either the old or the new content, never a half-written one: the
 * data goes to a temporary file in the same directory, is flushed, then renamed over the target.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode?: number): Promise<void> {
  const temp = tempNameFor(file);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(temp, 'wx', mode ?? 0o644);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(temp, file);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fsp.unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Synchronous twin of writeFileAtomic, for code paths that cannot await. */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  const temp = tempNameFor(file);
  try {
    writeFileSync(temp, data, { flag: 'wx' });
    renameSync(temp, file);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      /* the temp file may not exist */
    }
    throw error;
  }
}
