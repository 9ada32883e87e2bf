/** `policy generate | hash | check | simulate` (issue: policy generation). */
import type { Command } from 'commander';

export function registerPolicyGenerateCommands(_group: Command): void {
  // Filled in by the policy generation work (src/policy).
}
