/** Rego builtins: the strings family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
