/** Layer decompression by media type: gzip (node:zlib), zstd (fzstd, pure JS) or none. */
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { Decompress } from 'fzstd';
import { ImageError } from './errors.js';

export type Compression = 'gzip' | 'zstd' | 'none';

export function compressionOf(mediaType: string, image: string, digest: string): Compression {
  if (/tar\+gzip$|tar\.gzip$|rootfs\.diff\.tar\.gzip$/.test(mediaType)) return 'gzip';
  if (/tar\+zstd$/.test(mediaType)) return 'zstd';
  if (/layer\.v1\.tar$|rootfs\.diff\.tar$/.test(mediaType)) return 'none';
  throw new ImageError('image_unsupported', `unsupported layer media type '${mediaType}'`, { image, digest, hint: 'layers must be tar, tar+gzip or tar+zstd' });
}

function failed(image: string, digest: string, compression: Compression, cause: unknown): ImageError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new ImageError('layer_decompress_failed', `cannot decompress ${compression} layer: ${why}`, {
    image,
    digest,
    cause,
    hint: 'the layer blob is truncated or corrupt; re-push the image, or clear the cache entry if it came from a local source',
  });
}

async function* gunzip(input: AsyncIterable<Uint8Array>, image: string, digest: string): AsyncGenerator<Uint8Array> {
  const gz = createGunzip();
  const source = Readable.from(input);
  // Errors of the compressed side (e.g. a digest mismatch) must surface as themselves, not as gzip errors.
  let sourceError: unknown;
  source.on('error', (error) => {
    sourceError = error;
    gz.destroy(error);
  });
  source.pipe(gz);
  try {
    for await (const chunk of gz) yield chunk as Buffer;
  } catch (error) {
    if (sourceError !== undefined) throw sourceError;
    throw failed(image, digest, 'gzip', error);
  }
  if (sourceError !== undefined) throw sourceError;
}

async function* unzstd(input: AsyncIterable<Uint8Array>, image: string, digest: string): AsyncGenerator<Uint8Array> {
  let out: Uint8Array[] = [];
  let ended = false;
  const z = new Decompress((data, final) => {
    out.push(data);
    if (final) ended = true;
  });
  const push = (chunk: Uint8Array, final: boolean) => {
    try {
      z.push(chunk, final);
    } catch (error) {
      throw failed(image, digest, 'zstd', error);
    }
  };
  for await (const chunk of input) {
    push(chunk, false);
    const ready = out;
    out = [];
    yield* ready;
  }
  push(new Uint8Array(0), true);
  yield* out;
  if (!ended) throw failed(image, digest, 'zstd', new Error('unexpected end of stream'));
}

export function decompress(input: AsyncIterable<Uint8Array>, compression: Compression, image: string, digest: string): AsyncIterable<Uint8Array> {
  if (compression === 'gzip') return gunzip(input, image, digest);
  if (compression === 'zstd') return unzstd(input, image, digest);
  return input;
}
