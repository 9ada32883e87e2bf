/**
 * A small leveled logger writing to stderr (stdout is reserved for command output). Services pass it
 * structured fields; callers must never pass secret material.
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  level: LogLevel;
  /** ANSI colours on the level tag (off under NO_COLOR / --no-color or when stderr is not a terminal). */
  color: boolean;
  /** One JSON object per line instead of text (the CLI sets it under --json). */
  json: boolean;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  color?: boolean;
  json?: boolean;
  write?: (line: string) => void;
}

const COLORS: Record<Exclude<LogLevel, 'silent'>, string> = {
  debug: '\u001b[90m',
  info: '\u001b[36m',
  warn: '\u001b[33m',
  error: '\u001b[31m',
};

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const logger: Logger = {
    level: options.level ?? 'info',
    color: options.color === true,
    json: options.json === true,
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
  function emit(level: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>): void {
    if (RANK[level] < RANK[logger.level]) return;
    if (logger.json) {
      write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields }));
      return;
    }
    const tag = logger.color ? `${COLORS[level]}${level}\u001b[0m` : level;
    const extra = fields && Object.keys(fields).length > 0 ? ' ' + JSON.stringify(fields) : '';
    write(`${tag}: ${message}${extra}`);
  }
  return logger;
}

/** NO_COLOR (https://no-color.org): any non-empty value turns colour off. */
export function colorAllowed(stream: { isTTY?: boolean }): boolean {
  const noColor = process.env.NO_COLOR;
  return stream.isTTY === true && (noColor === undefined || noColor === '');
}

/** The process-wide logger; the CLI sets its level, colour and JSON form from the global options. */
export const log: Logger = createLogger({ level: 'warn', color: colorAllowed(process.stderr) });
