/** Rego builtins: the glob family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
