/**
 * The image half of `--offline`: what an online run resolved for a reference and platform (the top
 * manifest's digest, the platform's manifest and the config, as the registry served their bytes), so a
 * later offline run resolves the same image without opening a connection. One JSON file per
 * reference+platform under `<cacheDir>/manifests/`, written atomically. A tag resolves offline to what it
 * pointed at in the last online run. Bytes are checked against their digests when read back: an entry
 * that does not verify is treated as missing.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/fs.js';
import { sha256Hex } from '../core/hash.js';
import { sha256Digest } from './verify.js';

const VERSION = 1;

export interface ResolvedImage {
  /** Digest of the manifest or index the reference names. */
  topDigest: string;
  manifestDigest: string;
  manifest: Buffer;
  configDigest: string;
  config: Buffer;
}

interface Entry {
  version: number;
  key: string;
  topDigest: string;
  manifestDigest: string;
  manifest: string;
  configDigest: string;
  config: string;
}

export class ManifestCache {
  constructor(readonly dir: string) {}

  private file(key: string): string {
    return join(this.dir, 'manifests', `${sha256Hex(key)}.json`);
  }

  async get(image: string, platform: string): Promise<ResolvedImage | undefined> {
    const key = `${image}|${platform}`;
    let entry: Entry;
    try {
      entry = JSON.parse(await readFile(this.file(key), 'utf8')) as Entry;
    } catch {
      return undefined;
    }
    if (entry.version !== VERSION || entry.key !== key) return undefined;
    const manifest = Buffer.from(entry.manifest, 'base64');
    const config = Buffer.from(entry.config, 'base64');
    if (sha256Digest(manifest) !== entry.manifestDigest || sha256Digest(config) !== entry.configDigest) return undefined;
    return { topDigest: entry.topDigest, manifestDigest: entry.manifestDigest, manifest, configDigest: entry.configDigest, config };
  }

  async put(image: string, platform: string, resolved: ResolvedImage): Promise<void> {
    const key = `${image}|${platform}`;
    const entry: Entry = {
      version: VERSION,
      key,
      topDigest: resolved.topDigest,
      manifestDigest: resolved.manifestDigest,
      manifest: resolved.manifest.toString('base64'),
      configDigest: resolved.configDigest,
      config: resolved.config.toString('base64'),
    };
    await mkdir(join(this.dir, 'manifests'), { recursive: true });
    await writeFileAtomic(this.file(key), JSON.stringify(entry));
  }
}
