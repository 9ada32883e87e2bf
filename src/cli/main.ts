#!/usr/bin/env node
/** The `confcom` command: builds the command tree from one module per group and runs it. */
import { Command, CommanderError, Option } from 'commander';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LOG_LEVELS } from '../core/log.js';
import { ExitCode } from '../core/errors.js';
import { reportError } from './errors.js';
import { applyGlobalOptions } from './context.js';
import { registerPolicy } from './policy.js';
import { registerRego } from './rego.js';
import { registerVerity } from './verity.js';
import { registerImage } from './image.js';
import { registerAttest } from './attest.js';
import { registerServe } from './serve.js';
import { registerNode } from './node.js';
import { registerDemo } from './demo.js';
import { registerGuest } from './guest.js';
import { registerKbs } from './kbs.js';

export const VERSION = '0.1.0';

export function buildProgram(): Command {
  const program = new Command('confcom')
    .description('Confidential Kubernetes: Kata policy generation and enforcement, dm-verity layer pins, attestation')
    .version(VERSION)
    .option('--json', 'machine-readable JSON output', false)
    .addOption(new Option('--log-level <level>', 'log verbosity').choices(LOG_LEVELS).default('warn'))
    .option('--no-color', 'disable colored output')
    .showSuggestionAfterError(true)
    .hook('preAction', (_this, actionCommand) => {
      applyGlobalOptions(actionCommand);
    });
  for (const register of [
    registerPolicy,
    registerRego,
    registerVerity,
    registerImage,
    registerAttest,
    registerServe,
    registerNode,
    registerDemo,
    registerGuest,
    registerKbs,
  ]) {
    register(program);
  }
  // Every command (and group) reports parse errors through us instead of printing and exiting.
  const configure = (command: Command): void => {
    command.exitOverride().configureOutput({ outputError: () => undefined });
    command.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** Runs the CLI with the given arguments (without `node` and the script path); returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version output are successful exits; a group called alone shows its help (exit 0).
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code)) return ExitCode.Ok;
      if (error.code === 'commander.executeSubCommandAsync') return ExitCode.Ok;
    }
    const debug = argv.includes('debug') && argv.some((a) => a.startsWith('--log-level'));
    return reportError(error, { json: argv.includes('--json'), debug });
  }
}

function isMainModule(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.exitCode = reportError(error, { json: false, debug: true });
    },
  );
}
