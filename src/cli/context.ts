/**
 * What every command shares: the global options (--json, --log-level, --no-color) and the output
 * helpers. Commands print results on stdout; logs and errors go to stderr.
 */
import type { Command } from './commander.js';
import { colorAllowed, isLogLevel, log, type LogLevel } from '../core/log.js';
import { UsageError } from '../core/errors.js';

export interface GlobalOptions {
  json: boolean;
  logLevel: LogLevel;
  color: boolean;
}

/** Reads the global options as seen from any (sub)command. */
export function globalOptions(command: Command): GlobalOptions {
  const opts = command.optsWithGlobals<{ json?: boolean; logLevel?: string; color?: boolean }>();
  const level = opts.logLevel ?? 'warn';
  if (!isLogLevel(level)) {
    throw new UsageError(`unknown log level '${level}'`, { hint: 'use one of debug, info, warn, error, silent' });
  }
  return { json: opts.json === true, logLevel: level, color: opts.color !== false && colorAllowed(process.stdout) };
}

/** Applies the global options to the process (logger level) and returns them. */
export function applyGlobalOptions(command: Command): GlobalOptions {
  const options = globalOptions(command);
  log.level = options.logLevel;
  log.json = options.json;
  log.color = command.optsWithGlobals<{ color?: boolean }>().color !== false && colorAllowed(process.stderr);
  return options;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function printLine(line: string): void {
  process.stdout.write(line + '\n');
}
