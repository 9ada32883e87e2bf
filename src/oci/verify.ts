/** Digest checks: every blob is hashed as it streams by and compared before its results are used. */
import { createHash, type Hash } from 'node:crypto';
import { sha256Hex } from '../core/hash.js';
import { ImageError } from './errors.js';

export function sha256Digest(data: Uint8Array): string {
  return `sha256:${sha256Hex(data)}`;
}

export function checkDigest(image: string, expected: string, data: Uint8Array): void {
  const actual = sha256Digest(data);
  if (actual !== expected) throw digestMismatch(image, expected, actual);
}

export function digestMismatch(image: string, expected: string, actual: string): ImageError {
  return new ImageError('blob_digest_mismatch', `content has digest ${actual}, expected ${expected}`, {
    image,
    digest: expected,
    hint: 'the registry or image source served corrupted or tampered content; re-push the image or check the source',
  });
}

/** Passes a stream through while hashing it; `check()` after the end compares the digest. */
export class DigestingStream implements AsyncIterable<Uint8Array> {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private checked = false;

  constructor(
    private readonly source: AsyncIterable<Uint8Array>,
    private readonly image: string,
    private readonly expected: string,
  ) {
    if (!expected.startsWith('sha256:')) {
      throw new ImageError('image_unsupported', `unsupported digest algorithm in '${expected}'`, { image, digest: expected, hint: 'only sha256 digests are supported' });
    }
  }

  get length(): number {
    return this.bytes;
  }

  /** True once the whole stream went by and its digest matched. */
  get verified(): boolean {
    return this.checked;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for await (const chunk of this.source) {
      this.hash.update(chunk);
      this.bytes += chunk.length;
      yield chunk;
    }
    this.check();
  }

  private check(): void {
    const actual = `sha256:${this.hash.digest('hex')}`;
    if (actual !== this.expected) throw digestMismatch(this.image, this.expected, actual);
    this.checked = true;
  }
}
