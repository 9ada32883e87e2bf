/** Errors for malformed layer tars. Codes are stable: callers and tests match on them. */
import { InputError } from '../core/errors.js';

export type TarErrorCode =
  /** A header fails its checksum, a numeric field is not a number, or an extension record is malformed. */
  | 'tar_invalid'
  /** The stream ends inside a header or inside an entry's data. */
  | 'tar_truncated'
  /** The tar's hard links make a directory reachable twice (or in a cycle); the index would be ambiguous. */
  | 'tar_unsupported_links'
  /** A captured file is larger than the capture limit, or is a hard link whose contents were not kept. */
  | 'tar_capture_failed';

/** A layer tar that cannot be indexed and pinned. Exit 2 (bad input). */
export class TarError extends InputError {
  constructor(code: TarErrorCode, message: string, options: { offset?: number; entry?: string; hint?: string } = {}) {
    const where = [options.entry === undefined ? '' : `entry '${options.entry}'`, options.offset === undefined ? '' : `byte offset ${options.offset}`]
      .filter(Boolean)
      .join(', ');
    super(code, where ? `${message} (${where})` : message, {
      hint: options.hint ?? 'check that the layer is a complete, uncorrupted tar (re-pull the image; the layer cache may hold a partial download)',
      details: { ...(options.offset === undefined ? {} : { offset: options.offset }), ...(options.entry === undefined ? {} : { entry: options.entry }) },
    });
  }
}
