/** Errors for fetching and reading container images. Codes are stable: callers and tests match on them. */
import { ConfcomError, ExitCode } from '../core/errors.js';

export type ImageErrorCode =
  | 'image_reference_invalid'
  | 'image_not_found'
  | 'registry_unauthorized'
  | 'registry_error'
  | 'blob_digest_mismatch'
  | 'layer_decompress_failed'
  | 'image_unsupported'
  | 'image_offline_miss';

/** An image that cannot be resolved or read. Names the image and, where it applies, the layer digest. */
export class ImageError extends ConfcomError {
  constructor(code: ImageErrorCode, message: string, options: { image?: string; digest?: string; hint: string; cause?: unknown }) {
    const where = [options.image === undefined ? '' : `image '${options.image}'`, options.digest === undefined ? '' : `blob ${options.digest}`].filter(Boolean).join(', ');
    super(code, where ? `${message} (${where})` : message, {
      hint: options.hint,
      cause: options.cause,
      exitCode: code === 'image_reference_invalid' ? ExitCode.BadInput : ExitCode.CheckFailed,
      details: { ...(options.image === undefined ? {} : { image: options.image }), ...(options.digest === undefined ? {} : { digest: options.digest }) },
    });
  }
}
