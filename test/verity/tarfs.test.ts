import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildTarfsIndex, pinLayer } from '../../src/verity/layer.js';
import { hasTool } from '../helpers/tools.js';
import { TarfsImage, type DecodedInode } from './tarfs-decoder.js';
import { veritysetupRootHash } from './veritysetup.js';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;
const DT: Record<number, number> = { [S_IFIFO]: 1, [S_IFCHR]: 2, [S_IFDIR]: 4, [S_IFREG]: 8, [S_IFLNK]: 10 };
const MTIME = 1_700_000_000;
const LONG_DIR = 'deep/' + 'd'.repeat(120);
const LONG_FILE = `${LONG_DIR}/${'f'.repeat(150)}.txt`;
const LONG_TARGET = 't'.repeat(150);

let work: string;
const contents: Record<string, Buffer> = {
  'etc/passwd': Buffer.from('root:x:0:0:root:/root:/bin/sh\n'),
  'etc/group': Buffer.from('root:x:0:\n'),
  'bin/app': randomBytes(5000),
  'bin/empty': Buffer.alloc(0),
  'bin/suid': Buffer.from('#!/bin/sh\n'),
  [LONG_FILE]: randomBytes(700),
  'var/.wh.cache': Buffer.alloc(0),
  'opt/.wh..wh..opq': Buffer.alloc(0),
  'opt/kept': Buffer.from('kept'),
};

function makeTree(root: string): void {
  for (const [path, data] of Object.entries(contents)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), data);
  }
  chmodSync(join(root, 'bin/suid'), 0o4755);
  symlinkSync('passwd', join(root, 'etc/link'));
  symlinkSync(LONG_TARGET, join(root, 'long-link'));
  linkSync(join(root, 'bin/app'), join(root, 'bin/app2'));
  spawnSync('mkfifo', [join(root, 'fifo')]);
}

function makeTar(format: 'gnu' | 'pax'): Buffer {
  const out = join(work, `layer-${format}.tar`);
  const r = spawnSync('tar', ['-C', join(work, 'src'), `--format=${format}`, '--sort=name', '--numeric-owner', '--owner=1234', '--group=5678',
    `--mtime=@${MTIME}`, '-cf', out, '.'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  return readFileSync(out);
}

/** Inode numbers in breadth-first order of first appearance, children by byte order of name. */
function breadthFirstInos(image: TarfsImage): number[] {
  const seen: number[] = [];
  const queue: DecodedInode[] = [image.inode(1)];
  seen.push(1);
  while (queue.length > 0) {
    const node = queue.shift() as DecodedInode;
    if ((node.mode & S_IFMT) !== S_IFDIR) continue;
    for (const entry of image.readdir(node)) {
      if (seen.includes(entry.ino)) continue;
      seen.push(entry.ino);
      queue.push(image.inode(entry.ino));
    }
  }
  return seen;
}

describe.skipIf(!hasTool('tar'))('tarfs index of GNU tar archives', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'confcom-tarfs-'));
    makeTree(join(work, 'src'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  for (const format of ['gnu', 'pax'] as const) {
    describe(`--format=${format}`, () => {
      let tar: Buffer;
      let image: TarfsImage;
      beforeAll(() => {
        tar = makeTar(format);
        image = new TarfsImage(Buffer.concat([tar, buildTarfsIndex(tar)]));
      });
      const file = (path: string): DecodedInode => {
        const inode = image.lookup(path);
        if (!inode) throw new Error(`${path} not in the index`);
        return inode;
      };

      it('appends after the unchanged tar, ends with a 4096-byte block holding the superblock at 3584', () => {
        expect(image.bytes.subarray(0, tar.length).equals(tar)).toBe(true);
        expect(image.bytes.length % 4096).toBe(0);
        expect(image.inodeTableOffset).toBe(BigInt(tar.length));
        const last = image.bytes.subarray(image.bytes.length - 4096);
        expect(last.subarray(0, 3584).equals(Buffer.alloc(3584))).toBe(true);
        expect(last.subarray(3584 + 16).equals(Buffer.alloc(512 - 16))).toBe(true);
      });

      it('numbers inodes breadth-first from the root, one per distinct file', () => {
        const order = breadthFirstInos(image);
        expect(order).toEqual(order.map((_, i) => i + 1));
        expect(BigInt(order.length)).toBe(image.inodeCount);
      });

      it('lays out directory entries then names contiguously after the inode table, names sorted by bytes', () => {
        let expectedDirent = image.inodeTableOffset + 32n * image.inodeCount;
        const names: bigint[] = [];
        const queue = [image.inode(1)];
        while (queue.length > 0) {
          const dir = queue.shift() as DecodedInode;
          if ((dir.mode & S_IFMT) !== S_IFDIR) continue;
          expect(dir.offset).toBe(expectedDirent);
          const entries = image.readdir(dir);
          expect(dir.size).toBe(32n * BigInt(entries.length));
          expectedDirent += dir.size;
          const raw = entries.map((e) => Buffer.from(e.name));
          expect(raw).toEqual([...raw].sort(Buffer.compare));
          for (const entry of entries) {
            const child = image.inode(entry.ino);
            expect(entry.type).toBe(DT[child.mode & S_IFMT] ?? 0);
            names.push(entry.nameOffset);
            if (!queue.some((q) => q.ino === child.ino)) queue.push(child);
          }
        }
        expect(names[0]).toBe(expectedDirent);
        for (let i = 1; i < names.length; i++) expect(names[i]).toBeGreaterThan(names[i - 1]);
      });

      it('points regular files at their data in the tar, with mode, owner, group and mtime from the header', () => {
        for (const [path, data] of Object.entries(contents)) {
          if (path.includes('.wh.')) continue;
          const inode = file(path);
          expect(inode.mode & S_IFMT).toBe(S_IFREG);
          expect(image.data(inode).equals(data)).toBe(true);
          expect(inode.owner).toBe(1234);
          expect(inode.group).toBe(5678);
          expect(inode.mtime).toBe(BigInt(MTIME));
          expect(inode.flags).toBe(0);
        }
        expect(file('etc/passwd').mode).toBe(S_IFREG | 0o644);
        expect(file('bin/suid').mode).toBe(S_IFREG | 0o755); // only the 9 permission bits are kept
      });

      it('keeps long names (GNU L records / PAX path)', () => {
        expect(image.data(file(LONG_FILE)).equals(contents[LONG_FILE])).toBe(true);
        expect(file(LONG_DIR).mode & S_IFMT).toBe(S_IFDIR);
      });

      it('points a symlink at the link field of its tar header; skips one whose target does not fit it', () => {
        const link = file('etc/link');
        expect(link.mode).toBe(S_IFLNK | 0o777);
        expect(image.data(link).toString()).toBe('passwd');
        expect(Number(link.offset) % 512).toBe(157);
        expect(image.lookup('long-link')).toBeUndefined();
      });

      it('gives hard links the inode of their target', () => {
        expect(file('bin/app2').ino).toBe(file('bin/app').ino);
      });

      it('encodes whiteouts as 0/0 character devices and opaque directories with flag 1', () => {
        const whiteout = file('var/cache');
        expect(whiteout.mode).toBe(S_IFCHR);
        expect(whiteout.offset).toBe(0n);
        expect(whiteout.size).toBe(0n);
        expect(image.lookup('var/.wh.cache')).toBeUndefined();
        expect(file('opt').flags).toBe(1);
        expect(image.lookup('opt/.wh..wh..opq')).toBeUndefined();
        expect(file('etc').flags).toBe(0);
      });

      it('keeps FIFOs and directories with size from their entries', () => {
        expect(file('fifo').mode).toBe(S_IFIFO | 0o644);
        expect(file('fifo').size).toBe(0n);
        expect(file('').mode).toBe(S_IFDIR | 0o755); // the tar's './' entry replaces the root's 0555
      });

      it.skipIf(!hasTool('veritysetup'))('pins the layer: root hash of tar + index, captured files, whiteouts, opaque dirs', async () => {
        async function* chunks(): AsyncGenerator<Buffer> {
          for (let at = 0; at < tar.length; at += 777) yield tar.subarray(at, at + 777);
        }
        const pin = await pinLayer(chunks());
        expect(pin.rootHash).toBe(veritysetupRootHash(image.bytes));
        expect(pin.tarSize).toBe(tar.length);
        expect(pin.files).toEqual({ 'etc/passwd': contents['etc/passwd'], 'etc/group': contents['etc/group'] });
        expect(pin.whiteouts).toEqual(['var/cache']);
        expect(pin.opaqueDirs).toEqual(['opt']);
      });
    });
  }
});
