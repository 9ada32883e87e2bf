/** Rego builtins: the types family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
