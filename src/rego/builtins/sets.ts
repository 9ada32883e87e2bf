/** Rego builtins: the sets family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
