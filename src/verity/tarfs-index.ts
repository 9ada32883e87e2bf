/**
 * The tarfs index that Kata's tardev snapshotter appends after a decompressed layer tar, so the guest
 * kernel's `tarfs` file system can mount the tar in place (behind dm-verity). The policy pins the
 * dm-verity root hash of `tar || index`, so our index must be byte-identical to upstream's
 * (`tarindex::append_index` in kata-containers `src/tardev-snapshotter`, read by the `tarfs` kernel
 * module). This file is our own implementation of that format, written from those sources.
 *
 * ## Layout (all integers little-endian; offsets are absolute byte offsets in `tar || index`)
 *
 * | where                                   | what                                                        |
 * |-----------------------------------------|-------------------------------------------------------------|
 * | `0 .. T`                                | the tar, unchanged (T = its whole length, not aligned)      |
 * | `T .. T + 32·N`                         | inode table: N inodes of 32 bytes; inode number i at `T + 32·(i-1)` |
 * | next `32·Σ children`                    | directory entries, 32 bytes each, directory by directory    |
 * | next `Σ name lengths`                   | name table: entry names, raw bytes, no separators, no NULs  |
 * | up to the next multiple of 4096         | zero padding                                                |
 * | last 4096-byte block                    | zeros, except the superblock at offset 3584 (4096 − 512)    |
 *
 * The index always ends with a whole extra 4096-byte block, so `tar || index` is a multiple of 4096.
 *
 * Superblock (16 bytes at 3584 in the last block): `u64 inode_table_offset` (= T), `u64 inode_count`
 * (= N). There is no magic number on disk (the kernel's TARFS_MAGIC 0x54415246535f is only its statfs
 * type).
 *
 * Inode (32 bytes):
 *
 * | offset | type | field  | meaning                                                                 |
 * |--------|------|--------|-------------------------------------------------------------------------|
 * | 0      | u16  | mode   | S_IFMT type bits + the header's low 9 permission bits (no suid/sgid/sticky) |
 * | 2      | u8   | flags  | bit 0 (0x1): opaque directory (kernel reports `trusted.overlay.opaque=y`) |
 * | 3      | u8   | hmtime | bits 32..35 of the header mtime                                         |
 * | 4      | u32  | owner  | header uid (low 32 bits)                                                |
 * | 8      | u32  | group  | header gid (low 32 bits)                                                |
 * | 12     | u32  | lmtime | low 32 bits of the header mtime                                         |
 * | 16     | u64  | size   | file: data size; symlink: target length; directory: 32 × entries; else 0 |
 * | 24     | u64  | offset | file: tar offset of its data; symlink: offset of the header's 100-byte link field (header + 157); directory: offset of its first directory entry; char/block device: `major << 32 | minor`; else 0 |
 *
 * Directory entry (32 bytes): `u64 ino`, `u64 name_offset` (absolute offset in the name table),
 * `u64 name_len`, `u8 type` (DT_FIFO 1, DT_CHR 2, DT_DIR 4, DT_BLK 6, DT_REG 8, DT_LNK 10, DT_SOCK 12,
 * DT_UNKNOWN 0), 7 zero bytes.
 *
 * ## How the tree is built (upstream's rules, reproduced exactly)
 * - The root is inode 1, initially a directory with mode 0555, owner 0, mtime 0. Tar entries are
 *   applied in order. A name is split on '/'; empty and '.' components are dropped; '..' pops, and a
 *   name that climbs above the root is skipped. Missing parent directories are created as placeholder
 *   nodes with mode 0 (no type bits, no directory entries of their own).
 * - A later entry with the same path replaces the node's attributes in place and empties its children
 *   (hard links to it see the change). A name reducing to the root replaces the root's attributes.
 * - Regular files point at their data inside the tar. Directories, FIFOs: size 0, offset 0. Devices:
 *   skipped when the header has no numeric major/minor. Symlinks: skipped when the link target is
 *   longer than the header's 100-byte field (PAX/GNU long link), because the inode points into that field.
 * - Hard links: the target path is looked up (created as a placeholder if absent); if it is not a
 *   regular file the link is skipped, otherwise the link name becomes another name of the same inode.
 * - `.wh..wh..opq` sets the opaque flag on its parent directory and adds no node; a later entry for
 *   that directory itself resets the flag (as upstream).
 * - `.wh.<name>` turns `<name>` into a whiteout: a character device 0/0 (type bits replaced, the other
 *   mode bits, owner and mtime kept; a new node has permissions 0), with no children.
 * - Entries whose mode field is not a number, other types (sparse, contiguous, global PAX headers, ...)
 *   and entries with malformed names are skipped, as upstream does (it only logs them).
 * - Inode numbers are given breadth-first from the root, children in byte order of their names; a
 *   hard-linked inode keeps the first number it gets. Directory entries and names are written in the
 *   same breadth-first order.
 *
 * Where we differ from upstream on purpose: a tar whose hard links make a non-empty node reachable by
 * two paths (upstream would write duplicate directory entries, or loop forever on a cycle) is rejected
 * with `tar_unsupported_links`.
 */
import { TarError } from './errors.js';
import type { TarEntry } from './tar-scanner.js';

export const TARFS_BLOCK_SIZE = 4096;
export const TARFS_SUPERBLOCK_OFFSET = TARFS_BLOCK_SIZE - 512;
export const TARFS_INODE_SIZE = 32;
export const TARFS_DIRENT_SIZE = 32;
export const TARFS_INODE_FLAG_OPAQUE = 0x1;
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

const DIRENT_TYPES = new Map<number, number>([
  [S_IFIFO, 1],
  [S_IFCHR, 2],
  [S_IFDIR, 4],
  [S_IFBLK, 6],
  [S_IFREG, 8],
  [S_IFLNK, 10],
  [S_IFSOCK, 12],
]);

/** A node of the file tree. Names are kept as latin1 strings (one char per byte) so sorting is byte order. */
interface TarfsNode {
  mode: number;
  size: number;
  offset: bigint;
  mtime: bigint;
  owner: number;
  group: number;
  opaque: boolean;
  children: Map<string, TarfsNode>;
  ino: number;
}

function newNode(mode = 0): TarfsNode {
  return { mode, size: 0, offset: 0n, mtime: 0n, owner: 0, group: 0, opaque: false, children: new Map(), ino: 0 };
}

/** Path components (latin1 strings), or undefined when the name climbs above the root. */
export function cleanTarPath(name: Buffer): string[] | undefined {
  const out: string[] = [];
  for (const component of name.toString('latin1').split('/')) {
    if (component === '' || component === '.') continue;
    if (component === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(component);
  }
  return out;
}

/** What applying one tar entry did, for callers that track files, whiteouts and opaque directories. */
export type TarfsChange =
  | { kind: 'node'; path: string[]; mode: number }
  | { kind: 'hardlink'; path: string[]; target: string[] }
  | { kind: 'whiteout'; path: string[] }
  | { kind: 'opaque'; path: string[] }
  | { kind: 'skipped'; reason: string };

/** The attributes an entry gives its node, or why upstream skips it. */
function nodeFor(entry: TarEntry, mode: number): TarfsNode | string {
  const node = newNode();
  node.mtime = entry.mtime;
  node.owner = entry.uid;
  node.group = entry.gid;
  switch (entry.type) {
    case 'file':
      node.mode = mode | S_IFREG;
      node.size = entry.size;
      node.offset = BigInt(entry.dataOffset);
      return node;
    case 'dir':
      node.mode = mode | S_IFDIR;
      return node;
    case 'fifo':
      node.mode = mode | S_IFIFO;
      return node;
    case 'char':
    case 'block':
      if (entry.devMajor === undefined || entry.devMinor === undefined) return 'device without numeric major/minor';
      node.mode = mode | (entry.type === 'char' ? S_IFCHR : S_IFBLK);
      node.offset = (BigInt(entry.devMajor) << 32n) | BigInt(entry.devMinor);
      return node;
    case 'symlink':
      if (entry.linkName === undefined) return 'symlink without a target';
      if (!entry.linkName.equals(entry.headerLinkName ?? Buffer.alloc(0))) return 'symlink target longer than the header field';
      node.mode = mode | S_IFLNK;
      node.size = entry.linkName.length;
      node.offset = BigInt(entry.headerOffset + 157);
      return node;
    default:
      return `unhandled entry type '${entry.typeFlag}'`;
  }
}

/** Builds the tarfs tree from tar entries in order, then serialises the index. */
export class TarfsIndexBuilder {
  private root: TarfsNode = newNode(S_IFDIR | 0o555);
  private built = false;

  /** Applies one tar entry. */
  add(entry: TarEntry): TarfsChange {
    if (entry.mode === undefined) return { kind: 'skipped', reason: 'mode is not a number' };
    const mode = entry.mode & 0o777;
    if (entry.type === 'hardlink') return this.addHardLink(entry);
    const path = cleanTarPath(entry.path);
    if (!path) return { kind: 'skipped', reason: 'name climbs above the root' };
    const made = nodeFor(entry, mode);
    if (typeof made === 'string') return { kind: 'skipped', reason: made };
    const last = path.at(-1);
    if (last === OPAQUE_MARKER) {
      const dir = path.slice(0, -1);
      this.walk(dir).opaque = true;
      return { kind: 'opaque', path: dir };
    }
    if (last?.startsWith(WHITEOUT_PREFIX)) {
      const target = [...path.slice(0, -1), last.slice(WHITEOUT_PREFIX.length)];
      const node = this.walk(target);
      node.children = new Map();
      node.mode = (node.mode & ~S_IFMT) | S_IFCHR;
      node.size = 0;
      node.offset = 0n;
      return { kind: 'whiteout', path: target };
    }
    // Replace in place: other names of this node (hard links) must see the new attributes.
    Object.assign(this.walk(path), made);
    return { kind: 'node', path, mode: made.mode };
  }

  private addHardLink(entry: TarEntry): TarfsChange {
    const target = entry.linkName === undefined ? undefined : cleanTarPath(entry.linkName);
    if (!target) return { kind: 'skipped', reason: 'hard link without a valid target' };
    const existing = this.walk(target);
    if ((existing.mode & S_IFMT) !== S_IFREG) return { kind: 'skipped', reason: 'hard link to something other than a regular file' };
    const path = cleanTarPath(entry.path);
    if (!path) return { kind: 'skipped', reason: 'name climbs above the root' };
    if (path.length === 0) this.root = existing;
    else this.walk(path.slice(0, -1)).children.set(path[path.length - 1], existing);
    return { kind: 'hardlink', path, target };
  }

  /** The node at `path`, creating placeholder nodes (mode 0) on the way, as upstream does. */
  private walk(path: readonly string[]): TarfsNode {
    let node = this.root;
    for (const name of path) {
      let child = node.children.get(name);
      if (!child) {
        child = newNode();
        node.children.set(name, child);
      }
      node = child;
    }
    return node;
  }

  /** Breadth-first order with repeats (a hard-linked node appears once per name), children in byte order. */
  private breadthFirst(): TarfsNode[] {
    const order: TarfsNode[] = [];
    const seen = new Set<TarfsNode>();
    for (let i = 0, queue = [this.root]; i < queue.length; i++) {
      const node = queue[i];
      if (seen.has(node) && node.children.size > 0) {
        throw new TarError('tar_unsupported_links', 'hard links make a directory reachable by two paths', {
          hint: 'rebuild the layer without hard links onto paths that later become directories',
        });
      }
      seen.add(node);
      order.push(node);
      for (const name of [...node.children.keys()].sort()) queue.push(node.children.get(name) as TarfsNode);
    }
    return order;
  }

  /** The index bytes to append after a tar of `tarSize` bytes. */
  build(tarSize: number): Buffer {
    // Building numbers the nodes in place, so a builder serialises once.
    if (this.built) throw new Error('TarfsIndexBuilder.build called twice');
    this.built = true;
    const order = this.breadthFirst();
    const isDir = (n: TarfsNode): boolean => (n.mode & S_IFMT) === S_IFDIR;
    let inodeCount = 0;
    for (const node of order) if (node.ino === 0) node.ino = ++inodeCount;
    let offset = tarSize + TARFS_INODE_SIZE * inodeCount;
    for (const node of order) {
      if (!isDir(node)) continue;
      node.offset = BigInt(offset);
      node.size = TARFS_DIRENT_SIZE * node.children.size;
      offset += node.size;
    }
    const namesStart = offset;
    let namesSize = 0;
    for (const node of order) if (isDir(node)) for (const name of node.children.keys()) namesSize += name.length;
    const end = namesStart + namesSize;
    const aligned = Math.ceil(end / TARFS_BLOCK_SIZE) * TARFS_BLOCK_SIZE;
    const index = Buffer.alloc(aligned + TARFS_BLOCK_SIZE - tarSize);

    let at = 0;
    const emitted = new Set<TarfsNode>();
    for (const node of order) {
      if (emitted.has(node)) continue;
      emitted.add(node);
      index.writeUInt16LE(node.mode & 0xffff, at);
      index.writeUInt8(node.opaque ? TARFS_INODE_FLAG_OPAQUE : 0, at + 2);
      index.writeUInt8(Number((node.mtime >> 32n) & 0xfn), at + 3);
      index.writeUInt32LE(node.owner, at + 4);
      index.writeUInt32LE(node.group, at + 8);
      index.writeUInt32LE(Number(BigInt.asUintN(32, node.mtime)), at + 12);
      index.writeBigUInt64LE(BigInt(node.size), at + 16);
      index.writeBigUInt64LE(node.offset, at + 24);
      at += TARFS_INODE_SIZE;
    }
    let nameOffset = namesStart;
    let nameAt = namesStart - tarSize;
    for (const node of order) {
      if (!isDir(node)) continue;
      for (const name of [...node.children.keys()].sort()) {
        const child = node.children.get(name) as TarfsNode;
        index.writeBigUInt64LE(BigInt(child.ino), at);
        index.writeBigUInt64LE(BigInt(nameOffset), at + 8);
        index.writeBigUInt64LE(BigInt(name.length), at + 16);
        index.writeUInt8(DIRENT_TYPES.get(child.mode & S_IFMT) ?? 0, at + 24);
        at += TARFS_DIRENT_SIZE;
        index.write(name, nameAt, 'latin1');
        nameAt += name.length;
        nameOffset += name.length;
      }
    }
    const superblock = aligned + TARFS_SUPERBLOCK_OFFSET - tarSize;
    index.writeBigUInt64LE(BigInt(tarSize), superblock);
    index.writeBigUInt64LE(BigInt(inodeCount), superblock + 8);
    return index;
  }
}
