/** `policy replay | explain` (issue: agent-side policy enforcement). */
import type { Command } from 'commander';

export function registerPolicyEnforceCommands(_group: Command): void {
  // Filled in by the agent enforcement work (src/agent).
}
