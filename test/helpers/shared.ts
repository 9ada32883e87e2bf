/**
 * Access to ../shared (test corpora that sit beside the repo for developers and CI only). When it is
 * absent a test suite is skipped with a visible notice, except under CI=true where absence is a failure.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';

export const SHARED_DIR = process.env.CONFCOM_SHARED_DIR ?? join(REPO_ROOT, '..', 'shared');

/** Returns the path under ../shared, or undefined (with a notice) when it is missing outside CI. */
export function sharedPath(relative: string): string | undefined {
  const path = join(SHARED_DIR, relative);
  if (existsSync(path)) return path;
  if (process.env.CI === 'true') {
    throw new Error(`CI=true but the shared test corpus is missing: ${path}`);
  }
  process.stderr.write(`NOTICE: skipping tests that need ${path} (../shared is not beside this clone)\n`);
  return undefined;
}
