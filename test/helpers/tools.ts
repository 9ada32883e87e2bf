/**
 * External peers the tests compare against (veritysetup, docker-registry, ...). Missing tools skip
 * with a notice on a developer's machine and fail under CI=true, where .ci/run installs them.
 */
import { spawnSync } from 'node:child_process';

export function hasTool(name: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
  if (found) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true but the tool '${name}' is not installed (.ci/run installs it)`);
  process.stderr.write(`NOTICE: skipping tests that need '${name}' (install it as .ci/run does)\n`);
  return false;
}
