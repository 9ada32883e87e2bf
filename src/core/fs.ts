/**
 * File helpers: reads that fail with a clear InputError, and safe writes of files the user owns.
 *
 * A write never replaces something that is not a regular file: a character device (`/dev/null`,
 * `/dev/stdout`) or a FIFO is written through, as a shell redirect would; a socket, a block device or a
 * folder is refused. A symlink is followed, so the link stays and its target gets the new content. A
 * regular file is replaced atomically (temp file + rename) and keeps its mode. Every message names the
 * user's path, never the temp file.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, readFileSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileError, InputError } from './errors.js';

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

async function lstatOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await fsp.lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Follows symlinks one hop at a time, so a dangling link still names the file to create. */
async function followLinks(file: string): Promise<{ path: string; stats: Stats | undefined }> {
  let path = file;
  for (let hops = 0; hops < 40; hops++) {
    const stats = await lstatOrUndefined(path);
    if (!stats?.isSymbolicLink()) return { path, stats };
    const target = await fsp.readlink(path);
    path = isAbsolute(target) ? target : resolve(dirname(path), target);
  }
  const error = new Error('too many levels of symbolic links') as NodeJS.ErrnoException;
  error.code = 'ELOOP';
  throw error;
}

/** What a write does with the path it was given. */
type WritePlan = { kind: 'replace'; path: string; mode?: number; uid?: number; gid?: number } | { kind: 'through'; path: string };

function describeSpecial(stats: Stats): string | undefined {
  if (stats.isSocket()) return 'a socket';
  if (stats.isBlockDevice()) return 'a block device';
  return undefined;
}

async function planWrite(file: string): Promise<WritePlan> {
  const { path, stats } = await followLinks(file);
  if (!stats) {
    const parent = dirname(path);
    const folder = await fsp.stat(parent).catch(() => undefined);
    if (!folder) {
      throw new InputError('output_folder_missing', `cannot write ${file}: the folder ${parent} does not exist`, {
        location: { file },
        hint: `create it first (mkdir -p ${parent}) or choose another output path`,
      });
    }
    if (!folder.isDirectory()) {
      throw new InputError('output_folder_missing', `cannot write ${file}: ${parent} is not a folder`, { location: { file } });
    }
    return { kind: 'replace', path };
  }
  if (stats.isDirectory()) {
    throw new InputError('output_is_directory', `cannot write ${file}: it is a folder`, {
      location: { file },
      hint: 'give a file name inside the folder, e.g. ' + join(file, 'out.yaml'),
    });
  }
  if (stats.isFile()) return { kind: 'replace', path, mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid };
  const special = describeSpecial(stats);
  if (special) {
    throw new InputError('output_not_regular', `refusing to write ${file}: it is ${special}`, {
      location: { file },
      hint: 'write to a regular file, a FIFO or a character device such as /dev/stdout',
    });
  }
  return { kind: 'through', path }; // character device or FIFO
}

/** Turns a failed write into an InputError naming the user's path (the temp file stays hidden). */
function writeError(file: string, error: unknown): Error {
  if (error instanceof InputError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reasons: Record<string, [string, string | undefined]> = {
    EACCES: ['permission denied', 'check the permissions of the file and its folder'],
    EPERM: ['permission denied', 'check the permissions of the file and its folder'],
    EROFS: ['the file system is read-only', undefined],
    ENOSPC: ['no space left on the device', 'free some space or write elsewhere'],
    EDQUOT: ['the disk quota is exceeded', undefined],
    EIO: ['an I/O error occurred', 'the device may be failing; try another path'],
    ENOTDIR: ['a part of the path is not a folder', undefined],
    ELOOP: ['too many levels of symbolic links', undefined],
    ENXIO: ['nothing is reading from it', 'start the reader first'],
    ENAMETOOLONG: ['the name is too long', undefined],
  };
  const reason = code ? reasons[code] : undefined;
  if (!reason) return error instanceof Error ? error : new Error(String(error));
  return new InputError('output_not_writable', `cannot write ${file}: ${reason[0]}`, { location: { file }, hint: reason[1], cause: error });
}

/**
 * Writes a file the user owns. Readers of a regular file see either the old or the new content, never a
 * half-written one: the data goes to a temporary file in the same folder, is flushed, then renamed over
 * the target, keeping its mode (and owner, where we may). `mode` applies to a file that does not exist yet.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode?: number): Promise<void> {
  let plan: WritePlan;
  try {
    plan = await planWrite(file);
  } catch (error) {
    throw writeError(file, error);
  }
  if (plan.kind === 'through') {
    try {
      await fsp.writeFile(plan.path, data, { flag: 'w' });
    } catch (error) {
      throw writeError(file, error);
    }
    return;
  }
  const temp = tempNameFor(plan.path);
  let handle: fsp.FileHandle | undefined;
  try {
    const finalMode = plan.mode ?? mode ?? 0o644;
    handle = await fsp.open(temp, 'wx', finalMode);
    // The umask applied at open; an existing file's mode is restored exactly.
    if (plan.mode !== undefined) await handle.chmod(plan.mode);
    if (plan.uid !== undefined && plan.gid !== undefined && (plan.uid !== process.getuid?.() || plan.gid !== process.getgid?.())) {
      await handle.chown(plan.uid, plan.gid).catch(() => undefined); // only root may give a file away
    }
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(temp, plan.path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fsp.unlink(temp).catch(() => undefined);
    throw writeError(file, error);
  }
}
