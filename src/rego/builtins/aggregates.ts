/** Rego builtins: the aggregates family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
