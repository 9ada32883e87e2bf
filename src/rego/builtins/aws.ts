/** Rego builtins: the aws family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
