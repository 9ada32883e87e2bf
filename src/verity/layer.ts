/**
 * Pinning one image layer the way Kata's tardev snapshotter mounts it: the decompressed tar followed by
 * its tarfs index (`tarfs-index.ts`), protected by dm-verity (`tree.ts`). One pass over the stream does
 * the hashing, the index and the capture of a few small files the policy generator needs (such as
 * `etc/passwd`), in constant memory apart from the index tree and the captured files.
 */
import { TarError } from './errors.js';
import { TarScanner, type TarEntry } from './tar-scanner.js';
import { TarfsIndexBuilder, cleanTarPath } from './tarfs-index.js';
import { ParallelVerityHasher } from './parallel.js';

export interface LayerPin {
  /** dm-verity root hash (lower-case hex) of the decompressed tar followed by its tarfs index. */
  rootHash: string;
  /** Bytes of the decompressed tar (before the index). */
  tarSize: number;
  /** Contents of the captured files present in this layer, keyed by path without leading '/' (e.g. 'etc/passwd'). */
  files: Record<string, Buffer>;
  /** Paths (no leading '/') this layer deletes with `.wh.<name>` whiteout entries. */
  whiteouts: string[];
  /** Directories (no leading '/') this layer marks opaque with `.wh..wh..opq`. */
  opaqueDirs: string[];
}

export interface PinLayerOptions {
  /** Regular files to capture, without leading '/'. Default: `etc/passwd`, `etc/group`. */
  captureFiles?: readonly string[];
}

export const DEFAULT_CAPTURE_FILES: readonly string[] = ['etc/passwd', 'etc/group'];
/** A captured file larger than this is refused (they are account databases, not payloads). */
export const MAX_CAPTURE_SIZE = 16 << 20;

/** Tar path components (latin1 byte strings) as a display path: '/'-joined, UTF-8 decoded. */
function displayPath(components: readonly string[]): string {
  return Buffer.from(components.join('/'), 'latin1').toString('utf8');
}

/** Tracks captured files, whiteouts and opaque directories as the entries go by. */
class LayerFacts {
  readonly files = new Map<string, Buffer>();
  readonly whiteouts = new Set<string>();
  readonly opaqueDirs = new Set<string>();
  private readonly capture: Set<string>;

  constructor(captureFiles: readonly string[]) {
    this.capture = new Set(captureFiles.map((p) => p.replace(/^\/+/, '')));
  }

  /** Applies what the index builder did with an entry; returns true when its data must be captured. */
  note(entry: TarEntry, change: ReturnType<TarfsIndexBuilder['add']>): boolean {
    if (change.kind === 'skipped') return false;
    const path = displayPath(change.path);
    if (change.kind === 'opaque') {
      this.opaqueDirs.add(path);
      return false;
    }
    if (change.kind === 'whiteout') {
      this.whiteouts.add(path);
      this.forget(path);
      return false;
    }
    // A new node at `path` replaces what was there, children included (as in the index).
    this.forget(path);
    if (change.kind === 'hardlink') {
      if (!this.capture.has(path)) return false;
      const data = this.files.get(displayPath(change.target));
      if (!data) {
        throw new TarError('tar_capture_failed', `'${path}' is a hard link to '${displayPath(change.target)}', whose contents were not captured`, {
          entry: path,
          hint: `add '${displayPath(change.target)}' to the captured files`,
        });
      }
      this.files.set(path, data);
      return false;
    }
    if (!this.capture.has(path) || entry.type !== 'file') return false;
    if (entry.size > MAX_CAPTURE_SIZE) {
      throw new TarError('tar_capture_failed', `'${path}' is ${entry.size} bytes, more than the ${MAX_CAPTURE_SIZE}-byte capture limit`, { entry: path, hint: 'this file is expected to be small; check the image' });
    }
    return true;
  }

  private forget(path: string): void {
    for (const key of this.files.keys()) if (path === '' || key === path || key.startsWith(`${path}/`)) this.files.delete(key);
  }

  captured(entry: TarEntry, data: Buffer): void {
    const path = cleanTarPath(entry.path);
    if (path) this.files.set(displayPath(path), data);
  }
}

/** One pass over the decompressed tar stream: verity hashing, tarfs index, file capture. */
export async function pinLayer(tar: AsyncIterable<Uint8Array>, options: PinLayerOptions = {}): Promise<LayerPin> {
  const hasher = new ParallelVerityHasher();
  try {
    const index = new TarfsIndexBuilder();
    const facts = new LayerFacts(options.captureFiles ?? DEFAULT_CAPTURE_FILES);
    const scanner = new TarScanner({
      onEntry: (entry) => facts.note(entry, index.add(entry)),
      onData: (entry, data) => facts.captured(entry, data),
    });
    for await (const chunk of tar) {
      scanner.push(chunk);
      await hasher.update(chunk);
    }
    scanner.finish();
    const tarSize = scanner.length;
    await hasher.update(index.build(tarSize));
    return {
      rootHash: (await hasher.digest()).toString('hex'),
      tarSize,
      files: Object.fromEntries(facts.files),
      whiteouts: [...facts.whiteouts].sort(),
      opaqueDirs: [...facts.opaqueDirs].sort(),
    };
  } finally {
    // Stops the hashing workers also when the tar turns out to be malformed.
    await hasher.close();
  }
}

/** The tarfs index upstream would append to this tar (whole tar in memory: for tests and the CLI). */
export function buildTarfsIndex(tar: Uint8Array): Buffer {
  const index = new TarfsIndexBuilder();
  const scanner = new TarScanner({ onEntry: (entry) => (index.add(entry), false) });
  scanner.push(tar);
  scanner.finish();
  return index.build(tar.length);
}
