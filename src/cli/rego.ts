/** `confcom rego ...`: the Rego engine from the command line (issue: Rego engine). */
import { Command } from 'commander';

export function registerRego(program: Command): void {
  program.command('rego').description('evaluate Rego queries and run OPA conformance cases');
}
