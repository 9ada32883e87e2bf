/** Rego builtin rego.parse_module: a module's text to OPA's JSON AST (see ../ast-json.ts). */
import { BuiltinError, RegoError } from '../errors.js';
import { moduleJson } from '../ast-json.js';
import { parseModule } from '../parser.js';
import { fromJson } from '../value.js';
import { expectString, type BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {
  'rego.parse_module': {
    arity: 2,
    fn: (args) => {
      const file = expectString('rego.parse_module', args, 0);
      const text = expectString('rego.parse_module', args, 1);
      try {
        return fromJson(moduleJson(parseModule(text, file, { syntax: 'v1' })));
      } catch (error) {
        if (error instanceof RegoError) {
          const line = error.location?.line;
          throw new BuiltinError(`${file}${line ? `:${line}` : ''}: ${error.regoCode}: ${error.message}`);
        }
        throw error;
      }
    },
  },
};
