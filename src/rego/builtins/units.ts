/** Rego builtins: the units family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
