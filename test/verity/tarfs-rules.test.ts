import { describe, expect, it } from 'vitest';
import { buildTarfsIndex, pinLayer } from '../../src/verity/layer.js';
import { TarfsImage } from './tarfs-decoder.js';
import { buildTar, paxRecord, type RawEntry } from './tar-build.js';

function imageOf(entries: readonly RawEntry[]): TarfsImage {
  const tar = buildTar(entries);
  return new TarfsImage(Buffer.concat([tar, buildTarfsIndex(tar)]));
}

async function* once(data: Buffer): AsyncGenerator<Buffer> {
  yield data;
}

describe('tarfs index: upstream tree rules', () => {
  it('stores device numbers as major << 32 | minor', () => {
    const image = imageOf([
      { name: 'dev/', type: '5', mode: 0o755 },
      { name: 'dev/tty', type: '3', mode: 0o620, major: 5, minor: 0 },
      { name: 'dev/sda', type: '4', mode: 0o660, major: 8, minor: 3 },
    ]);
    expect(image.lookup('dev/tty')).toMatchObject({ mode: 0o020620, offset: 5n << 32n, size: 0n });
    expect(image.lookup('dev/sda')).toMatchObject({ mode: 0o060660, offset: (8n << 32n) | 3n });
    expect(image.readdir(image.lookup('dev')!).map((e) => e.type)).toEqual([6, 2]);
  });

  it('splits mtime into low 32 bits and 4 high bits (base-256 header field)', () => {
    const mtime = (0x5n << 32n) | 0x12345678n;
    expect(imageOf([{ name: 'f', mtime }]).lookup('f')?.mtime).toBe(mtime);
  });

  it('creates missing parents as mode-0 placeholders and normalises . and ..', () => {
    const image = imageOf([{ name: './a/./b/../c', data: 'x' }, { name: '../escape', data: 'y' }]);
    expect(image.lookup('a')?.mode).toBe(0);
    expect(image.inodeCount).toBe(3n); // root, a, a/c; '../escape' is skipped
    expect(image.readdir(image.inode(1)).map((e) => e.name)).toEqual(['a']);
  });

  it('lets a later entry replace a node in place: a directory entry after its child drops the child', () => {
    const image = imageOf([{ name: 'd/f', data: 'x' }, { name: 'd/', type: '5', mode: 0o700 }]);
    expect(image.lookup('d')).toMatchObject({ mode: 0o040700, size: 0n });
    expect(image.lookup('d/f')).toBeUndefined();
  });

  it('resets the opaque flag when the directory entry comes after .wh..wh..opq', () => {
    expect(imageOf([{ name: 'd/', type: '5' }, { name: 'd/.wh..wh..opq' }]).lookup('d')?.flags).toBe(1);
    expect(imageOf([{ name: 'd/.wh..wh..opq' }, { name: 'd/', type: '5' }]).lookup('d')?.flags).toBe(0);
  });

  it('keeps the permission bits and owner of a whited-out existing node', () => {
    const image = imageOf([{ name: 'f', mode: 0o640, uid: 7, data: 'x' }, { name: '.wh.f' }]);
    expect(image.lookup('f')).toMatchObject({ mode: 0o020640, owner: 7, size: 0n, offset: 0n });
  });

  it('shares the inode of hard links, which see a later replacement of the target', () => {
    const image = imageOf([
      { name: 'a', data: 'one' },
      { name: 'b', type: '1', linkName: 'a' },
      { name: 'a', data: 'second' },
      { name: 'd/', type: '5' },
      { name: 'l', type: '1', linkName: 'd' },
    ]);
    expect(image.lookup('b')!.ino).toBe(image.lookup('a')!.ino);
    expect(image.data(image.lookup('b')!).toString()).toBe('second');
    expect(image.lookup('l')).toBeUndefined(); // links to non-files are skipped
  });

  it('skips entries whose mode is not a number and types upstream does not handle', () => {
    const image = imageOf([{ name: 'bad', mode: 'zz\0' }, { name: 'sparse', type: 'S' }, { name: 'ok' }]);
    expect(image.readdir(image.inode(1)).map((e) => e.name)).toEqual(['ok']);
  });

  it('uses the PAX path and size over the header', () => {
    const pax = paxRecord('path', 'p/long-name') + paxRecord('size', '3');
    const tar = buildTar([{ name: 'p/', type: '5' }, { name: 'pax', type: 'x', data: pax }, { name: 'short', data: 'abc' }]);
    const image = new TarfsImage(Buffer.concat([tar, buildTarfsIndex(tar)]));
    expect(image.data(image.lookup('p/long-name')!).toString()).toBe('abc');
  });

  it('refuses hard links that make a non-empty node reachable twice (upstream would loop)', () => {
    const tar = buildTar([{ name: 'f', data: 'x' }, { name: 'f2', type: '1', linkName: 'f' }, { name: 'f/c', type: '1', linkName: 'f2' }]);
    expect(() => buildTarfsIndex(tar)).toThrow(expect.objectContaining({ code: 'tar_unsupported_links' }));
  });
});

describe('tar reading errors', () => {
  const tar = buildTar([{ name: 'etc/passwd', data: 'root:x:0:0\n'.repeat(100) }]);

  it('rejects a stream that stops inside a member', async () => {
    await expect(pinLayer(once(tar.subarray(0, 700)))).rejects.toMatchObject({ code: 'tar_truncated' });
    await expect(pinLayer(once(tar.subarray(0, 100)))).rejects.toMatchObject({ code: 'tar_truncated' });
  });

  it('rejects a header whose checksum does not match', async () => {
    const bad = Buffer.from(tar);
    bad[5] ^= 1;
    await expect(pinLayer(once(bad))).rejects.toMatchObject({ code: 'tar_invalid' });
  });

  it('counts bytes after the end-of-archive blocks as part of the layer', async () => {
    const padded = Buffer.concat([tar, Buffer.alloc(10240 - (tar.length % 10240))]);
    const pin = await pinLayer(once(padded));
    expect(pin.tarSize).toBe(padded.length);
    expect(new TarfsImage(Buffer.concat([padded, buildTarfsIndex(padded)])).inodeTableOffset).toBe(BigInt(padded.length));
  });
});

describe('pinLayer file capture', () => {
  it('captures through a hard link to a captured file, and forgets files a whiteout removes', async () => {
    const tar = buildTar([
      { name: 'etc/group', data: 'g' },
      { name: 'etc/passwd', type: '1', linkName: 'etc/group' },
      { name: 'etc/.wh.group' },
    ]);
    const pin = await pinLayer(once(tar));
    expect(pin.files).toEqual({ 'etc/passwd': Buffer.from('g') });
    expect(pin.whiteouts).toEqual(['etc/group']);
  });

  it('refuses a captured path that hard-links an uncaptured file', async () => {
    const tar = buildTar([{ name: 'etc/x', data: 'g' }, { name: 'etc/passwd', type: '1', linkName: 'etc/x' }]);
    await expect(pinLayer(once(tar))).rejects.toMatchObject({ code: 'tar_capture_failed' });
  });
});
