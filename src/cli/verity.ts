/**
 * `confcom verity hash FILE [--tarfs] [--pad]`: dm-verity root hash of a file, as veritysetup computes
 * it (whole 4096-byte blocks; a trailing partial block is not covered, `--pad` zero-pads it instead) or
 * as the Kata tardev snapshotter pins a layer (`--tarfs`).
 */
import { Command } from './commander.js';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileError, InputError } from '../core/errors.js';
import { log } from '../core/log.js';
import { globalOptions, printJson, printLine } from './context.js';

const BLOCK = 4096;

export function registerVerity(program: Command): void {
  const group = program.command('verity').description('dm-verity root hashes (SHA-256, 4096-byte blocks, zero salt)');
  group
    .command('hash')
    .description('print the dm-verity root hash of FILE, over its whole 4096-byte blocks as veritysetup does')
    .argument('<file>', 'the file to hash')
    .option('--tarfs', 'FILE is a decompressed layer tar: hash it followed by its tarfs index, as tardev does')
    .option('--pad', 'zero-pad a trailing partial block and hash it too (veritysetup leaves it out)')
    .action(async (file: string, opts: { tarfs?: boolean; pad?: boolean }, command: Command) => {
      const { json } = globalOptions(command);
      let size: number;
      try {
        size = (await stat(file)).size;
      } catch (error) {
        throw fileError(file, error);
      }
      const tail = size % BLOCK;
      // tarfs pins always pad (tardev appends its index to the padded tar); a plain file matches veritysetup.
      const padded = opts.tarfs === true || opts.pad === true || tail === 0;
      const hashedBytes = padded ? size : size - tail;
      if (hashedBytes === 0 && size > 0) {
        throw new InputError('verity_input_too_small', `${file} is ${size} bytes, less than one ${BLOCK}-byte block`, {
          location: { file },
          hint: 'veritysetup hashes whole blocks only; --pad zero-pads the file to one block',
        });
      }
      let rootHash: string;
      const stream = opts.tarfs ? createReadStream(file, { highWaterMark: 4 << 20 }) : undefined;
      try {
        if (stream) {
          const { pinLayer } = await import('../verity/layer.js');
          rootHash = (await pinLayer(stream, { captureFiles: [] })).rootHash;
        } else {
          const { verityRootHashOfFile } = await import('../verity/parallel.js');
          rootHash = await verityRootHashOfFile(file, padded ? undefined : hashedBytes);
        }
      } catch (error) {
        throw typeof (error as NodeJS.ErrnoException).code === 'string' && !('location' in (error as object)) ? fileError(file, error) : error;
      } finally {
        stream?.destroy();
      }
      const note = tail === 0 || opts.tarfs
        ? undefined
        : padded
          ? `${file} is ${size} bytes, not a multiple of ${BLOCK}: its last ${tail} bytes were zero-padded to a whole block (--pad)`
          : `${file} is ${size} bytes, not a multiple of ${BLOCK}: hashed its first ${hashedBytes} bytes (whole blocks) as veritysetup does; the last ${tail} bytes are not covered (--pad zero-pads them)`;
      if (json) printJson({ file, size, hashedBytes, padded: padded && tail !== 0, tarfs: opts.tarfs === true, rootHash, ...(note ? { note } : {}) });
      else {
        printLine(rootHash);
        if (note) log.warn(note);
      }
    });
}
