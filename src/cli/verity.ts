/** `confcom verity hash FILE [--tarfs]`: dm-verity root hash of a file, as the Kata tardev snapshotter pins it. */
import { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileError } from '../core/errors.js';
import { pinLayer } from '../verity/layer.js';
import { verityRootHashOfStream } from '../verity/tree.js';
import { globalOptions, printJson, printLine } from './context.js';

export function registerVerity(program: Command): void {
  const group = program.command('verity').description('dm-verity root hashes (SHA-256, 4096-byte blocks, zero salt)');
  group
    .command('hash')
    .description('print the dm-verity root hash of FILE (zero-padded to a 4096-byte boundary)')
    .argument('<file>', 'the file to hash')
    .option('--tarfs', 'FILE is a decompressed layer tar: hash it followed by its tarfs index, as tardev does')
    .action(async (file: string, opts: { tarfs?: boolean }, command: Command) => {
      const { json } = globalOptions(command);
      let size: number;
      try {
        size = (await stat(file)).size;
      } catch (error) {
        throw fileError(file, error);
      }
      const stream = createReadStream(file, { highWaterMark: 1 << 20 });
      const rootHash = opts.tarfs ? (await pinLayer(stream, { captureFiles: [] })).rootHash : await verityRootHashOfStream(stream);
      if (json) printJson({ file, size, tarfs: opts.tarfs === true, rootHash });
      else printLine(rootHash);
    });
}
