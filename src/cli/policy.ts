/** `confcom policy ...`: generation commands (src/policy) and enforcement commands (src/agent). */
import { Command } from './commander.js';
import { registerPolicyGenerateCommands } from './policy-generate.js';
import { registerPolicyEnforceCommands } from './policy-enforce.js';
import { registerPolicyConformanceCommand } from './policy-conformance.js';

export function registerPolicy(program: Command): void {
  const group = program
    .command('policy')
    .description('generate, hash, check, simulate, replay and explain Kata agent policies');
  registerPolicyGenerateCommands(group);
  registerPolicyEnforceCommands(group);
  registerPolicyConformanceCommand(group);
}
