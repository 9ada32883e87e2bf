/** Rego builtins: the bits family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
