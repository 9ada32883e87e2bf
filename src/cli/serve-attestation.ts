/** `serve attestation` (issue: remote attestation). */
import type { Command } from 'commander';

export function registerServeAttestation(_group: Command): void {
  // Filled in by the attestation work (src/attest/service).
}
