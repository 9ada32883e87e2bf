/** Rego builtins: the core family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
