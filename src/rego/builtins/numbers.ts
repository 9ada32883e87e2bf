/** Rego builtins: the numbers family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
