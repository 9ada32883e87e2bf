/** Rego builtins: the sprintf family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
