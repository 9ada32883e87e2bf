/** Rego builtins: the x509 family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
