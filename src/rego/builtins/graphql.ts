/** Rego builtins: the graphql family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
