import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, lstatSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/core/fs.js';
import { ConfcomError } from '../../src/core/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'confcom-fs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function failure(promise: Promise<unknown>): Promise<ConfcomError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ConfcomError);
  return error as ConfcomError;
}

describe('writeFileAtomic', () => {
  it('replaces a regular file and keeps its mode', async () => {
    const file = join(dir, 'secret.yaml');
    writeFileSync(file, 'old');
    chmodSync(file, 0o600);
    await writeFileAtomic(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['secret.yaml']); // no temp file left
  });

  it('writes through a symlink, leaving the link in place', async () => {
    const target = join(dir, 'real.yaml');
    const link = join(dir, 'link.yaml');
    writeFileSync(target, 'old');
    symlinkSync('real.yaml', link);
    await writeFileAtomic(link, 'new');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('new');
  });

  it('creates the target of a dangling symlink', async () => {
    const link = join(dir, 'link.yaml');
    symlinkSync(join(dir, 'later.yaml'), link);
    await writeFileAtomic(link, 'x');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'later.yaml'), 'utf8')).toBe('x');
  });

  it('writes through a character device instead of replacing it', async () => {
    await writeFileAtomic('/dev/null', 'policy');
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('writes through a FIFO to its reader', async () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = open(fifo, 'r').then(async (h) => {
      const text = (await h.readFile()).toString();
      await h.close();
      return text;
    });
    await writeFileAtomic(fifo, 'through the pipe');
    expect(await reader).toBe('through the pipe');
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('refuses a socket, naming the path', async () => {
    const path = join(dir, 'sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const error = await failure(writeFileAtomic(path, 'x'));
      expect(error.code).toBe('output_not_regular');
      expect(error.exitCode).toBe(2);
      expect(error.message).toContain(path);
      expect(lstatSync(path).isSocket()).toBe(true);
    } finally {
      server.close();
    }
  });

  it('refuses a folder as output', async () => {
    const error = await failure(writeFileAtomic(dir, 'x'));
    expect(error.code).toBe('output_is_directory');
    expect(error.exitCode).toBe(2);
  });

  it('names the missing folder and suggests creating it', async () => {
    const file = join(dir, 'no', 'such', 'out.yaml');
    const error = await failure(writeFileAtomic(file, 'x'));
    expect(error.code).toBe('output_folder_missing');
    expect(error.message).toContain(file);
    expect(error.hint).toContain('mkdir -p');
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });

  it.skipIf(process.getuid?.() === 0)('names the user path, not the temp file, when the folder is not writable', async () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    const file = join(ro, 'out.yaml');
    const error = await failure(writeFileAtomic(file, 'x'));
    expect(error.code).toBe('output_not_writable');
    expect(error.message).toBe(`cannot write ${file}: permission denied`);
    expect(error.message).not.toMatch(/\.tmp/);
  });
});
