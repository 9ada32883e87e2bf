/** Rego builtins: the uuid family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
