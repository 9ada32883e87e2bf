/**
 * The error model every part of confcom uses.
 *
 * Each error a user can cause is a `ConfcomError` with a stable `code` (callers and tests match on the
 * code, never on message text), a human message, and where it applies a location (file, document index,
 * field path, line/column) and a hint saying what to do. The CLI turns these into
 * `error[CODE]: message` plus location and hint, and into an exit code.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';

/** Process exit codes shared by every command. */
export const ExitCode = {
  Ok: 0,
  /** The check or decision failed (a denial, drift, a failed verification). */
  CheckFailed: 1,
  /** Bad usage or bad input (unknown flag, missing file, malformed document). */
  BadInput: 2,
  /** A bug or an unexpected failure inside confcom. */
  Internal: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Where an error happened in the user's input. Every field is optional. */
export interface ErrorLocation {
  file?: string;
  /** Zero-based index of the document in a multi-document YAML stream. */
  document?: number;
  /** Field path inside the document, e.g. `spec.template.spec.containers[0].env[2]`. */
  path?: string;
  line?: number;
  column?: number;
}

export interface ConfcomErrorOptions {
  location?: ErrorLocation;
  hint?: string;
  cause?: unknown;
  exitCode?: ExitCode;
  /** Extra machine-readable details (never secret material). */
  details?: Record<string, unknown>;
}

export class ConfcomError extends Error {
  readonly code: string;
  readonly location?: ErrorLocation;
  readonly hint?: string;
  readonly exitCode: ExitCode;
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, options: ConfcomErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.location = options.location;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.BadInput;
    this.details = options.details;
  }

  /** A JSON form for `--json` output and service error bodies. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.location) out.location = this.location;
    if (this.hint) out.hint = this.hint;
    if (this.details) out.details = this.details;
    return out;
  }
}

/** The command line was used wrongly (unknown flag, missing argument). Exit 2. */
export class UsageError extends ConfcomError {
  constructor(message: string, options: Omit<ConfcomErrorOptions, 'exitCode'> = {}) {
    super('usage', message, { ...options, exitCode: ExitCode.BadInput });
  }
}

/** Input that cannot be used: missing or malformed file, bad field. Exit 2. */
export class InputError extends ConfcomError {
  constructor(code: string, message: string, options: Omit<ConfcomErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...options, exitCode: ExitCode.BadInput });
  }
}

/** A check, decision or verification said no. Exit 1. */
export class CheckFailedError extends ConfcomError {
  constructor(code: string, message: string, options: Omit<ConfcomErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...options, exitCode: ExitCode.CheckFailed });
  }
}

/** Something went wrong inside confcom. Exit 3. */
export class InternalError extends ConfcomError {
  constructor(message: string, options: Omit<ConfcomErrorOptions, 'exitCode'> = {}) {
    super('internal', message, { ...options, exitCode: ExitCode.Internal });
  }
}

/** Formats a location as `file, document 2, at spec.containers[0] (line 4, column 7)`. */
export function formatLocation(location: ErrorLocation): string {
  const parts: string[] = [];
  if (location.file) parts.push(location.file);
  if (location.document !== undefined) parts.push(`document ${location.document}`);
  if (location.path) parts.push(`at ${location.path}`);
  if (location.line !== undefined) {
    parts.push(location.column !== undefined ? `line ${location.line}, column ${location.column}` : `line ${location.line}`);
  }
  return parts.join(', ');
}

/**
 * Node's errno codes that mean the user's environment or input is at fault (a port in use, a missing
 * folder, a failing disk), with what to tell them. Anything else unexpected stays internal (exit 3).
 */
const ENVIRONMENT_ERRORS: Record<string, { code: string; what: string; hint?: string }> = {
  EADDRINUSE: { code: 'address_in_use', what: 'the address is already in use', hint: 'stop the other service or pick another --port (0 picks a free one)' },
  EADDRNOTAVAIL: { code: 'address_not_available', what: 'the address is not available on this machine', hint: 'use 127.0.0.1 or an address of this machine' },
  EACCES: { code: 'permission_denied', what: 'permission denied', hint: 'check the permissions, or use a port above 1023' },
  EPERM: { code: 'permission_denied', what: 'operation not permitted' },
  ENOENT: { code: 'file_not_found', what: 'no such file or folder', hint: 'check the path; a socket path needs its folder to exist' },
  ENOTDIR: { code: 'not_a_directory', what: 'a part of the path is not a folder', hint: 'check the path' },
  EISDIR: { code: 'file_is_directory', what: 'expected a file but found a folder', hint: 'give a file, not a folder' },
  EIO: { code: 'io_error', what: 'an I/O error occurred while reading', hint: 'the file or device may be damaged; copy it elsewhere and retry' },
  ELOOP: { code: 'symlink_loop', what: 'too many levels of symbolic links' },
  EROFS: { code: 'read_only_file_system', what: 'the file system is read-only' },
  ENOSPC: { code: 'no_space', what: 'no space left on the device' },
  EMFILE: { code: 'too_many_open_files', what: 'too many open files', hint: 'raise the limit (ulimit -n)' },
  ENAMETOOLONG: { code: 'name_too_long', what: 'the path is too long' },
};

/** The yaml library's guard against "billion laughs" documents (aliases expanding without bound). */
const YAML_ALIAS_BOMB = /excessive alias count/i;

/** A unix socket that cannot be created: most often its folder does not exist (Node says EACCES). */
function socketError(error: NodeJS.ErrnoException, socket: string): ConfcomError {
  const folder = dirname(socket);
  if (!existsSync(folder)) {
    return new InputError('socket_folder_missing', `cannot listen on ${socket}: the folder ${folder} does not exist`, {
      location: { file: socket },
      hint: `create it first (mkdir -p ${folder}) or choose another --socket path`,
      cause: error,
    });
  }
  const known = (error.code && ENVIRONMENT_ERRORS[error.code]) || { code: 'socket_unusable', what: 'cannot use the socket path' };
  return new InputError(known.code, `cannot listen on ${socket}: ${known.what}`, { location: { file: socket }, hint: known.hint, cause: error });
}

function environmentError(error: NodeJS.ErrnoException, file = error.path): ConfcomError | undefined {
  const address = (error as { address?: unknown }).address;
  if (error.syscall === 'listen' && typeof address === 'string' && /[/\\]/.test(address)) return socketError(error, address);
  const known = error.code ? ENVIRONMENT_ERRORS[error.code] : undefined;
  if (!known) return undefined;
  const where = error as NodeJS.ErrnoException & { address?: string; port?: number };
  const subject = where.address !== undefined ? (where.port !== undefined ? `${where.address}:${where.port}` : where.address) : file;
  const message = subject ? `${known.what}: ${subject}` : `${known.what} (${error.syscall ?? error.code})`;
  return new InputError(known.code, message, { hint: known.hint, cause: error, location: file ? { file } : undefined });
}

/**
 * The yaml library's alias-count refusal as an InputError (exit 2), with the file and document when
 * the caller knows them; undefined for any other error.
 */
export function yamlAliasBomb(error: unknown, location?: ErrorLocation): InputError | undefined {
  if (!(error instanceof Error) || !YAML_ALIAS_BOMB.test(error.message)) return undefined;
  return new InputError('yaml_alias_bomb', 'the YAML document expands its aliases too far to be safe to load', {
    hint: 'a document whose anchors and aliases multiply (a "billion laughs" document) is refused; write the values out',
    cause: error,
    location,
  });
}

/** Wraps anything thrown into a ConfcomError (unknown errors become internal errors). */
export function asConfcomError(error: unknown): ConfcomError {
  if (error instanceof ConfcomError) return error;
  if (error instanceof Error) {
    if (typeof (error as NodeJS.ErrnoException).code === 'string') {
      const mapped = environmentError(error as NodeJS.ErrnoException);
      if (mapped) return mapped;
    }
    const bomb = yamlAliasBomb(error);
    if (bomb) return bomb;
    return new InternalError(error.message, { cause: error });
  }
  return new InternalError(String(error));
}

/** Turns a Node file-system error into an InputError naming the file and what to do. */
export function fileError(file: string, error: unknown): ConfcomError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') {
    return new InputError('file_not_found', `file not found: ${file}`, {
      location: { file },
      hint: 'check the path; relative paths are taken from the current directory',
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new InputError('file_not_readable', `permission denied: ${file}`, { location: { file } });
  }
  if (code === 'EISDIR') {
    return new InputError('file_is_directory', `expected a file but found a directory: ${file}`, { location: { file } });
  }
  if (code === 'EIO') {
    return new InputError('file_unreadable', `an I/O error occurred reading ${file}`, {
      location: { file },
      hint: 'the file or its device may be damaged; copy it elsewhere and retry',
      cause: error,
    });
  }
  if (error instanceof Error && typeof code === 'string') {
    const mapped = environmentError(error as NodeJS.ErrnoException, file);
    if (mapped) return mapped;
  }
  return asConfcomError(error);
}
