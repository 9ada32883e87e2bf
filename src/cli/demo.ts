/**
 * `confcom demo`: the main job on built-in defaults (what `npm start` runs). It grows with the system;
 * today it builds a deterministic sample layer in memory and prints its dm-verity pin.
 */
import { Command } from 'commander';
import { createHash } from 'node:crypto';
import { verityRootHash } from '../verity/tree.js';
import { globalOptions, printJson, printLine } from './context.js';

/** 1 MiB of deterministic bytes (a SHA-256 counter stream), so the printed hash is reproducible. */
export function sampleLayer(size = 1 << 20): Buffer {
  const out = Buffer.alloc(size);
  for (let offset = 0, i = 0; offset < size; offset += 32, i++) {
    createHash('sha256').update(`confcom-sample-${i}`).digest().copy(out, offset);
  }
  return out;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the main job on built-in defaults (the local end-to-end chain)')
    .action((_opts: unknown, command: Command) => {
      const { json } = globalOptions(command);
      const layer = sampleLayer();
      const rootHash = verityRootHash(layer);
      if (json) printJson({ sample: 'built-in 1 MiB layer', size: layer.length, rootHash });
      else {
        printLine('confcom demo: dm-verity pin of the built-in 1 MiB sample layer');
        printLine(`root hash: ${rootHash}`);
      }
    });
}
