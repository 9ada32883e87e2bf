/** Rego builtins: the regex family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
