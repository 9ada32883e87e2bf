/**
 * Rego builtins: GraphQL validation with graphql-js (the reference implementation). Schemas and queries
 * are taken as text; graphql.schema_is_valid and graphql.is_valid answer booleans, never errors.
 * (The AST-returning graphql.parse* builtins are not provided yet: OPA returns gqlparser's AST shape.)
 */
import { buildSchema, parse, validate, type GraphQLSchema } from 'graphql';
import type { Value } from '../value.js';
import type { BuiltinTable } from './registry.js';

const SCHEMAS = new Map<string, GraphQLSchema | null>();

function loadSchema(text: string): GraphQLSchema | null {
  if (SCHEMAS.has(text)) return SCHEMAS.get(text) ?? null;
  let schema: GraphQLSchema | null;
  try {
    schema = buildSchema(text);
  } catch {
    schema = null;
  }
  if (SCHEMAS.size > 200) SCHEMAS.clear();
  SCHEMAS.set(text, schema);
  return schema;
}

export const builtins: BuiltinTable = {
  'graphql.schema_is_valid': {
    arity: 1,
    fn: ([schema]: readonly Value[]) => typeof schema === 'string' && loadSchema(schema) !== null,
  },
  'graphql.is_valid': {
    arity: 2,
    fn: ([query, schemaText]: readonly Value[]) => {
      if (typeof query !== 'string' || typeof schemaText !== 'string') return false;
      const schema = loadSchema(schemaText);
      if (!schema) return false;
      try {
        return validate(schema, parse(query)).length === 0;
      } catch {
        return false;
      }
    },
  },
};
