/** Turns any error into the CLI's report: `error[CODE]: message`, location, hint; and an exit code. */
import { CommanderError } from './commander.js';
import { asConfcomError, ConfcomError, ExitCode, formatLocation, UsageError } from '../core/errors.js';

/** Maps commander's own parse errors onto our usage error (exit 2). */
export function fromCommanderError(error: CommanderError): ConfcomError {
  const [first, ...rest] = error.message.replace(/^error:\s*/i, '').split('\n');
  // Commander's typo suggestion ("(Did you mean policy?)") is the most useful hint there is.
  const suggestion = rest.join(' ').match(/Did you mean ([^?]+)\?/);
  const hint = suggestion ? `did you mean ${suggestion[1]}?` : "run with --help to see the command's options";
  return new UsageError(first, { hint });
}

export function reportError(error: unknown, options: { json: boolean; debug: boolean }): ExitCode {
  const err = error instanceof CommanderError ? fromCommanderError(error) : asConfcomError(error);
  if (options.json) {
    process.stderr.write(JSON.stringify({ error: err.toJSON() }) + '\n');
  } else {
    const lines = [`error[${err.code}]: ${err.message}`];
    if (err.location) {
      const where = formatLocation(err.location);
      if (where) lines.push(`  --> ${where}`);
    }
    if (err.hint) lines.push(`  hint: ${err.hint}`);
    process.stderr.write(lines.join('\n') + '\n');
  }
  if (options.debug) {
    const stack = error instanceof Error ? error.stack : undefined;
    if (stack) process.stderr.write(stack + '\n');
  }
  return err.exitCode;
}
