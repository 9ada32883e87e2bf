/** `confcom serve ...`: the long-running HTTP services. */
import { Command } from './commander.js';
import { registerServeOpa } from './serve-opa.js';
import { registerServeAttestation } from './serve-attestation.js';

export function registerServe(program: Command): void {
  const group = program.command('serve').description('run a service: the OPA-compatible policy server or the attestation service');
  registerServeOpa(group);
  registerServeAttestation(group);
}
