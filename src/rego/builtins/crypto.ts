/** Rego builtins: the crypto family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
