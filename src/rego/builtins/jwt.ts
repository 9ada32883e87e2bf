/** Rego builtins: the jwt family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
