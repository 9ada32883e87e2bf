/** Rego builtins: the semver family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
