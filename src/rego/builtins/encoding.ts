/** Rego builtins: the encoding family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
