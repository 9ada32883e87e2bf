/** `policy conformance DIR`: genpolicy's test cases against our generated policies (src/policy/conformance). */
import { dirname, join } from 'node:path';
import type { Command } from './commander.js';
import { CheckFailedError } from '../core/errors.js';
import { globalOptions, printJson } from './context.js';

interface ConformanceFlags {
  protos?: string;
  images?: string;
  genpolicySettings?: string;
  settings?: string;
}

export function registerPolicyConformanceCommand(group: Command): void {
  group
    .command('conformance <dir>')
    .description("run genpolicy's test cases (folders with pod.yaml and testcases.json) against the policies we generate for them")
    .option('--protos <dir>', "the agent's .proto files, for protobuf defaults (default: DIR/../protos)")
    .option('--images <file>', 'image configs for offline generation (default: DIR/../images.json)')
    .option('--genpolicy-settings <file>', "genpolicy's settings, for the pause image and guest pull (default: DIR/../genpolicy-settings.json)")
    .option('--settings <dir>', 'JSON Patch drop-ins for our settings')
    .action(async (dir: string, flags: ConformanceFlags, command: Command) => {
      // The runner pulls in the Rego engine: loaded only when the command runs, so `policy hash` starts fast.
      const { formatConformance, runConformance, conformanceSettings } = await import('../policy/conformance/runner.js');
      const { loadSettings } = await import('../policy/settings.js');
      const root = dirname(dir.replace(/\/+$/, ''));
      const settings = await conformanceSettings(await loadSettings(flags.settings), flags.genpolicySettings ?? join(root, 'genpolicy-settings.json'));
      const result = await runConformance({ casesDir: dir, protosDir: flags.protos ?? join(root, 'protos'), imagesFile: flags.images ?? join(root, 'images.json'), settings });
      if (globalOptions(command).json) printJson(result);
      else process.stdout.write(formatConformance(result));
      if (result.failed > 0) throw new CheckFailedError('conformance_failed', `${result.failed} of ${result.cases.length} cases failed`, { hint: 'see the failing cases above' });
    });
}
