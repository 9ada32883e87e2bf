/** Rego builtins: the time family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
