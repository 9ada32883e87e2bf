/** Rego builtins: the arrays family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
