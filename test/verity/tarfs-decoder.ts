/**
 * An independent reader of `tar || tarfs index`, written from the kernel module's point of view
 * (superblock at 3584 in the last block, inode i at table + 32·(i-1), directory entries at the
 * directory inode's offset). Tests use it to walk the file system the guest would see.
 */
export interface DecodedInode {
  ino: number;
  mode: number;
  flags: number;
  mtime: bigint;
  owner: number;
  group: number;
  size: bigint;
  offset: bigint;
}

export interface DecodedDirent {
  name: string;
  ino: number;
  type: number;
  nameOffset: bigint;
}

export class TarfsImage {
  readonly inodeTableOffset: bigint;
  readonly inodeCount: bigint;

  constructor(readonly bytes: Buffer) {
    if (bytes.length % 4096 !== 0) throw new Error(`image length ${bytes.length} is not a multiple of 4096`);
    const sb = bytes.length - 4096 + 3584;
    this.inodeTableOffset = bytes.readBigUInt64LE(sb);
    this.inodeCount = bytes.readBigUInt64LE(sb + 8);
  }

  inode(ino: number): DecodedInode {
    if (ino < 1 || BigInt(ino) > this.inodeCount) throw new Error(`inode ${ino} out of range`);
    const at = Number(this.inodeTableOffset) + 32 * (ino - 1);
    const b = this.bytes;
    return {
      ino,
      mode: b.readUInt16LE(at),
      flags: b[at + 2],
      mtime: (BigInt(b[at + 3] & 0xf) << 32n) | BigInt(b.readUInt32LE(at + 12)),
      owner: b.readUInt32LE(at + 4),
      group: b.readUInt32LE(at + 8),
      size: b.readBigUInt64LE(at + 16),
      offset: b.readBigUInt64LE(at + 24),
    };
  }

  readdir(dir: DecodedInode): DecodedDirent[] {
    const out: DecodedDirent[] = [];
    for (let i = 0n; i < dir.size / 32n; i++) {
      const at = Number(dir.offset + 32n * i);
      const nameOffset = this.bytes.readBigUInt64LE(at + 8);
      const nameLength = Number(this.bytes.readBigUInt64LE(at + 16));
      if (!this.bytes.subarray(at + 25, at + 32).equals(Buffer.alloc(7))) throw new Error('dirent padding is not zero');
      out.push({
        ino: Number(this.bytes.readBigUInt64LE(at)),
        nameOffset,
        name: this.bytes.toString('utf8', Number(nameOffset), Number(nameOffset) + nameLength),
        type: this.bytes[at + 24],
      });
    }
    return out;
  }

  /** Looks a '/'-separated path up from the root (inode 1), as the kernel's lookup does. */
  lookup(path: string): DecodedInode | undefined {
    let node = this.inode(1);
    for (const name of path.split('/').filter(Boolean)) {
      const entry = this.readdir(node).find((e) => e.name === name);
      if (!entry) return undefined;
      node = this.inode(entry.ino);
    }
    return node;
  }

  /** The bytes a regular file or symlink inode points at. */
  data(inode: DecodedInode): Buffer {
    return this.bytes.subarray(Number(inode.offset), Number(inode.offset + inode.size));
  }
}
