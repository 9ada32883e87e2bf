/** `confcom demo`: the local end-to-end chain on built-in defaults (what `npm start` runs). */
import { Command } from './commander.js';
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CheckFailedError, InputError } from '../core/errors.js';
import { runDemo } from '../demo/chain.js';
import { DEMO_MANIFEST_NAME } from '../demo/workload.js';
import { globalOptions, printJson, printLine } from './context.js';

/**
 * `--out DIR` is a folder confcom may create, but only the last step of it: an existing file is refused,
 * and so is a missing parent folder (as every `-o` is), so a typo does not create a whole chain of folders.
 */
async function checkOutDir(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info) {
    if (info.isDirectory()) return;
    throw new InputError('output_not_folder', `cannot keep the demo's files in ${dir}: it exists and is not a folder`, {
      location: { file: dir },
      hint: 'give --out a folder (an existing one, or a new name inside an existing folder)',
    });
  }
  const parent = dirname(resolve(dir));
  const folder = await stat(parent).catch(() => undefined);
  if (!folder) {
    throw new InputError('output_folder_missing', `cannot write ${dir}: the folder ${parent} does not exist`, {
      location: { file: dir },
      hint: `create it first (mkdir -p ${parent}) or choose another output path`,
    });
  }
  if (!folder.isDirectory()) throw new InputError('output_folder_missing', `cannot write ${dir}: ${parent} is not a folder`, { location: { file: dir } });
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the local end-to-end chain on built-in defaults (software TEE: insecure, for laptops)')
    .option('--out <dir>', "keep the demo's files: the OCI layout (layout/) and the annotated manifest (app.yaml)")
    .action(async (opts: { out?: string }, command: Command) => {
      const { json } = globalOptions(command);
      if (opts.out) await checkOutDir(opts.out);
      const result = await runDemo({ outDir: opts.out });
      if (json) printJson(result);
      else {
        printLine(`confcom demo: ${result.resource} of the built-in ${DEMO_MANIFEST_NAME}, image ${result.image} (built in, written as an OCI layout)`);
        printLine('SIMULATED TEE: the attestation steps run on confcom\'s software TEE, which only a service told to trust it accepts.');
        // One line a step with its verdict and time; what came of it indented below.
        for (const s of result.steps) printLine(`${s.ok ? 'ok  ' : 'FAIL'} ${s.step} [${s.ms ?? 0} ms]\n       ${s.detail}`);
        printLine(result.released ? `released ${result.released} (value not shown)` : 'nothing was released');
      }
      const failed = result.steps.filter((s) => !s.ok);
      if (failed.length > 0) throw new CheckFailedError('demo_failed', `${failed.length} demo step(s) failed: ${failed.map((s) => s.step).join('; ')}`);
    });
}
