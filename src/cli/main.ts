#!/usr/bin/env node
/**
 * The `confcom` command: builds the command tree from one module per group and runs it.
 *
 * Start-up is kept cheap: only the group the user named is imported (each group module, in turn,
 * imports its part only when a command runs). The other groups appear in `--help` from the one-line
 * summaries below, so listing them costs nothing.
 */
import { Command, CommanderError, Option } from './commander.js';
import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOG_LEVELS } from '../core/log.js';
import { ExitCode } from '../core/errors.js';
import { reportError } from './errors.js';
import { applyGlobalOptions } from './context.js';

export const VERSION = '0.1.0';

type Register = (program: Command) => void;

interface LazyGroup {
  name: string;
  summary: string;
  load: () => Promise<Register>;
}

// One line per group: name, the summary `confcom --help` shows, and the module that registers it.
const GROUPS: LazyGroup[] = [
  { name: 'policy', summary: 'generate, hash, check, simulate, replay and explain Kata agent policies', load: async () => (await import('./policy.js')).registerPolicy },
  { name: 'rego', summary: 'evaluate Rego queries and run OPA conformance cases', load: async () => (await import('./rego.js')).registerRego },
  { name: 'verity', summary: 'dm-verity root hashes (SHA-256, 4096-byte blocks, zero salt)', load: async () => (await import('./verity.js')).registerVerity },
  { name: 'image', summary: 'inspect container images: config, layers and dm-verity layer pins', load: async () => (await import('./image.js')).registerImage },
  { name: 'attest', summary: 'verify TEE evidence: AMD SEV-SNP reports, Azure vTPM, Intel SGX DCAP quotes', load: async () => (await import('./attest.js')).registerAttest },
  { name: 'serve', summary: 'run a service: the OPA-compatible policy server or the attestation service', load: async () => (await import('./serve.js')).registerServe },
  { name: 'node', summary: 'SGX node add-on: EPC device plugin, AESM quote helper, admission webhook', load: async () => (await import('./node.js')).registerNode },
  { name: 'kbs', summary: 'KBS client and admin tool (trustee protocol 0.4.0): attest, get and set resources and policies', load: async () => (await import('./kbs.js')).registerKbs },
  { name: 'guest', summary: 'the in-pod attestation agent: TEE evidence, KBS and Azure flows, local secret API', load: async () => (await import('./guest.js')).registerGuest },
  { name: 'demo', summary: 'run the local end-to-end chain on built-in defaults (software TEE: insecure, for laptops)', load: async () => (await import('./demo.js')).registerDemo },
];

/** Global options that take a value, so the group name is found after them. */
const VALUE_OPTIONS = new Set(['--log-level']);

/** The group named on the command line (the first word that is not an option or an option's value). */
export function namedGroup(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') return argv[i + 1];
    if (VALUE_OPTIONS.has(arg)) {
      i++;
      continue;
    }
    if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/** Installed as `kubectl-confcom`, kubectl runs us as `kubectl confcom ...`; help should say so. */
function programName(): string {
  return /^kubectl-/.test(basename(process.argv[1] ?? '')) ? 'kubectl confcom' : 'confcom';
}

function baseProgram(): Command {
  return new Command(programName())
    .description('Confidential Kubernetes: Kata policy generation and enforcement, dm-verity layer pins, attestation')
    .version(VERSION)
    .option('--json', 'machine-readable JSON output', false)
    .addOption(new Option('--log-level <level>', 'log verbosity').choices(LOG_LEVELS).default('warn'))
    .option('--no-color', 'disable colored output (also NO_COLOR=1)')
    .showSuggestionAfterError(true)
    .hook('preAction', (_this, actionCommand) => {
      applyGlobalOptions(actionCommand);
    });
}

/**
 * Builds the command tree. Groups in `load` (all of them by default) get their full commands; the
 * others only a summary line, enough for `--help` and for "Did you mean ...?".
 */
export async function buildProgram(load: (name: string) => boolean = () => true): Promise<Command> {
  const program = baseProgram();
  for (const group of GROUPS) {
    if (load(group.name)) (await group.load())(program);
    else program.command(group.name).description(group.summary);
  }
  // Every command (and group) reports parse errors through us instead of printing and exiting.
  const configure = (command: Command): void => {
    command.exitOverride().configureOutput({ outputError: () => undefined });
    command.commands.forEach(configure);
  };
  configure(program);
  // A group with subcommands prints its help when called alone (commander's default); one that has none
  // yet (`node`) must say so too, not end silently.
  // Commander keeps whether a command has an action private; a group without either ends silently.
  const hasAction = (command: Command) => (command as unknown as { _actionHandler?: unknown })._actionHandler != null;
  for (const group of program.commands) {
    if (group.commands.length === 0 && !hasAction(group) && load(group.name())) group.action(() => group.help());
  }
  return program;
}

/** Runs the CLI with the given arguments (without `node` and the script path); returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const named = namedGroup(argv);
  try {
    const program = await buildProgram((name) => name === named);
    // A group named alone (`confcom node`) prints its help on stdout and succeeds; commander's own
    // default writes it to stderr as if it were a mistake.
    const group = argv.length === 1 ? program.commands.find((c) => c.name() === named) : undefined;
    if (group && group.commands.length > 0) {
      group.outputHelp();
      return ExitCode.Ok;
    }
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

/** `confcom ... | head` closes our stdout early: stop quietly, as other Unix tools do. */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.Ok);
      throw error;
    });
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
  quietOnClosedPipe();
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.exitCode = reportError(error, { json: false, debug: true });
    },
  );
}
