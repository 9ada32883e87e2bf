/** `confcom attest ...`: verify SEV-SNP reports and SGX quotes (issue: remote attestation). */
import { Command } from 'commander';

export function registerAttest(program: Command): void {
  program.command('attest').description('verify AMD SEV-SNP reports and Intel SGX DCAP quotes');
}
