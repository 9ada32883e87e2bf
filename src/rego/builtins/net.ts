/** Rego builtins: the net family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
