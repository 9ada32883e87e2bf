/**
 * The error model every part of confcom uses.
 *
 * Each error a user can cause is a `ConfcomError` with a stable `code` (callers and tests match on the
 * code, never on message text), a human message, and where it applies a location (file, document index,
 * field path, line/column) and a hint saying what to do. The CLI turns these into
 * `error[CODE]: message` plus location and hint, and into an exit code.
 */

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

/** Wraps anything thrown into a ConfcomError (unknown errors become internal errors). */
export function asConfcomError(error: unknown): ConfcomError {
  if (error instanceof ConfcomError) return error;
  if (error instanceof Error) return new InternalError(error.message, { cause: error });
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
  return asConfcomError(error);
}
