/**
 * Content-addressed cache of layer pins, keyed by the layer's diff ID (the digest of the decompressed
 * tar, the same whichever compression a registry serves). One JSON file per layer:
 * `<cacheDir>/layers/sha256-<hex>.json`. Writes are atomic (temp file + rename in the same directory),
 * so concurrent processes filling one cache can only race to write identical content; a reader sees a
 * whole entry or none. An entry that fails to parse or names another diff ID is ignored (recomputed).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfcomError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fs.js';
import type { LayerPin } from '../verity/layer.js';

const CACHE_VERSION = 1;

interface CacheEntry {
  version: number;
  diffId: string;
  rootHash: string;
  tarSize: number;
  files: Record<string, string>;
  whiteouts: string[];
  opaqueDirs: string[];
  /** True for entries imported from genpolicy's layers-cache.json (no tar size, whiteouts unknown). */
  imported?: boolean;
}

export interface CachedPin extends LayerPin {
  imported: boolean;
}

export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'confcom');
}

export class LayerCache {
  constructor(readonly dir: string) {}

  private file(diffId: string): string {
    return join(this.dir, 'layers', `${diffId.replace(':', '-')}.json`);
  }

  async get(diffId: string): Promise<CachedPin | undefined> {
    let entry: CacheEntry;
    try {
      entry = JSON.parse(await readFile(this.file(diffId), 'utf8')) as CacheEntry;
    } catch {
      return undefined;
    }
    if (entry.version !== CACHE_VERSION || entry.diffId !== diffId || !/^[a-f0-9]{64}$/.test(entry.rootHash)) return undefined;
    return {
      rootHash: entry.rootHash,
      tarSize: entry.tarSize,
      files: Object.fromEntries(Object.entries(entry.files).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
      whiteouts: entry.whiteouts,
      opaqueDirs: entry.opaqueDirs,
      imported: entry.imported === true,
    };
  }

  async put(diffId: string, pin: LayerPin, imported = false): Promise<void> {
    const entry: CacheEntry = {
      version: CACHE_VERSION,
      diffId,
      rootHash: pin.rootHash,
      tarSize: pin.tarSize,
      files: Object.fromEntries(Object.entries(pin.files).map(([k, v]) => [k, v.toString('base64')])),
      whiteouts: pin.whiteouts,
      opaqueDirs: pin.opaqueDirs,
      ...(imported ? { imported } : {}),
    };
    await mkdir(join(this.dir, 'layers'), { recursive: true });
    await writeFileAtomic(this.file(diffId), JSON.stringify(entry));
  }

  /**
   * Imports upstream genpolicy's `layers-cache.json`: an array of `{diff_id, verity_hash, passwd, group}`
   * (passwd/group are the file contents, empty when the layer has none). Returns how many were imported.
   */
  async importGenpolicy(text: string, file: string): Promise<number> {
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch {
      list = undefined;
    }
    if (!Array.isArray(list)) throw new ConfcomError('layers_cache_invalid', `${file} is not a genpolicy layers-cache.json (a JSON array)`, { location: { file }, hint: 'pass the layers-cache.json written by genpolicy' });
    let count = 0;
    for (const [i, item] of list.entries()) {
      const e = item as { diff_id?: unknown; verity_hash?: unknown; passwd?: unknown; group?: unknown };
      if (typeof e.diff_id !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(e.diff_id) || typeof e.verity_hash !== 'string' || !/^[a-f0-9]{64}$/.test(e.verity_hash)) {
        throw new ConfcomError('layers_cache_invalid', `entry ${i} of ${file} lacks a valid diff_id or verity_hash`, { location: { file, path: `[${i}]` }, hint: 'pass the layers-cache.json written by genpolicy' });
      }
      const files: Record<string, Buffer> = {};
      if (typeof e.passwd === 'string' && e.passwd) files['etc/passwd'] = Buffer.from(e.passwd);
      if (typeof e.group === 'string' && e.group) files['etc/group'] = Buffer.from(e.group);
      await this.put(e.diff_id, { rootHash: e.verity_hash, tarSize: -1, files, whiteouts: [], opaqueDirs: [] }, true);
      count++;
    }
    return count;
  }
}
