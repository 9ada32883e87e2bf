/** `confcom node ...`: the SGX node add-on (device plugin, quote helper). */
import { Command } from 'commander';

export function registerNode(program: Command): void {
  program
    .command('node')
    .description('SGX node add-on: EPC device plugin and AESM quote helper (not built yet: see the README)');
}
