/** Rego builtins: the objects family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
