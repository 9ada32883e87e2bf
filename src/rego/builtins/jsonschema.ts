/** Rego builtins: the jsonschema family. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
