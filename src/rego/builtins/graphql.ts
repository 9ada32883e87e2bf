/**
 * Rego builtins for GraphQL, as OPA provides them on top of gqlparser:
 *   - graphql.parse_query / graphql.parse_schema return gqlparser's AST shape (graphql-parser.ts) and
 *     fail with gqlparser's messages;
 *   - graphql.is_valid / schema_is_valid answer booleans, never errors; graphql.parse and
 *     graphql.parse_and_verify validate, then return both ASTs.
 * Queries and schemas are taken as text or as ASTs (printed back to text by graphql-print.ts).
 * Syntax is judged by our gqlparser-compatible parser; meaning (types, fields, arguments, variables)
 * by graphql-js, the reference implementation, after the one rule where gqlparser is looser: a type
 * extension of a type that is never defined defines it.
 */
import {
  buildASTSchema, GraphQLError, Kind, parse, validate, validateSchema, visit,
  type DefinitionNode, type DocumentNode, type GraphQLSchema, type NamedTypeNode,
} from 'graphql';
import { BuiltinError } from '../errors.js';
import { fromJson, RObject, toJson, type Json, type Value } from '../value.js';
import { GraphqlSyntaxError, parseQueryAst, parseSchemaAst } from './graphql-parser.js';
import { printQueryAst, printSchemaAst } from './graphql-print.js';
import { expectString, operandTypeError, type BuiltinTable } from './registry.js';

/** A query or schema argument: GraphQL text, or an AST object (printed back to text). */
function sourceText(name: string, v: Value, index: number, print: (doc: Json) => string): string {
  if (typeof v === 'string') return v;
  if (v instanceof RObject) return print(toJson(v));
  throw operandTypeError(name, index + 1, ['string', 'object'], v);
}

/** OPA's error text: gqlparser's message, then where (`GraphQL string`, or `GraphQL schema string` when loading a schema). */
function located(message: string, line: number, column: number, where = 'GraphQL string'): string {
  return `${message} in ${where} at location ${line}:${column}`;
}

function syntax<T>(name: string, parseIt: () => T): T {
  try {
    return parseIt();
  } catch (e) {
    if (e instanceof GraphqlSyntaxError) throw new BuiltinError(`${name}: ${located(e.message, e.line, e.column)}`);
    throw e;
  }
}

function graphqlError(name: string, e: Error, where?: string): BuiltinError {
  const loc = e instanceof GraphQLError ? e.locations?.[0] : undefined;
  const message = e.message.replace(/\.$/, '');
  return new BuiltinError(`${name}: ${loc ? located(message, loc.line, loc.column, where) : `${message} in ${where ?? 'GraphQL string'}`}`);
}

const EXTENSION_TO_DEFINITION: Partial<Record<Kind, Kind>> = {
  [Kind.OBJECT_TYPE_EXTENSION]: Kind.OBJECT_TYPE_DEFINITION,
  [Kind.INTERFACE_TYPE_EXTENSION]: Kind.INTERFACE_TYPE_DEFINITION,
  [Kind.UNION_TYPE_EXTENSION]: Kind.UNION_TYPE_DEFINITION,
  [Kind.ENUM_TYPE_EXTENSION]: Kind.ENUM_TYPE_DEFINITION,
  [Kind.INPUT_OBJECT_TYPE_EXTENSION]: Kind.INPUT_OBJECT_TYPE_DEFINITION,
  [Kind.SCALAR_TYPE_EXTENSION]: Kind.SCALAR_TYPE_DEFINITION,
};

/** gqlparser lets `extend type X` stand for X's definition when X is defined nowhere. */
function defineExtendedTypes(doc: DocumentNode): DocumentNode {
  const defined = new Set<string>();
  for (const d of doc.definitions) if ('name' in d && d.name && !(d.kind in EXTENSION_TO_DEFINITION)) defined.add(d.name.value);
  const definitions = doc.definitions.map((d): DefinitionNode => {
    const kind = EXTENSION_TO_DEFINITION[d.kind];
    if (!kind || !('name' in d) || !d.name || defined.has(d.name.value)) return d;
    defined.add(d.name.value);
    return { ...d, kind } as DefinitionNode;
  });
  return { ...doc, definitions };
}

/** The graphql-js root-type rule gqlparser does not have (a schema may lack a Query type). */
const ROOT_QUERY_MISSING = 'Query root type must be provided.';

const SCHEMA_STRING = 'GraphQL schema string';

/** Built schemas by text: policies validate many queries against one schema. Bounded, and holds no errors. */
const SCHEMAS = new Map<string, GraphQLSchema>();
const MAX_CACHED_SCHEMAS = 64;

/** Loads a schema as gqlparser's LoadSchema would accept it; throws BuiltinError otherwise. */
function loadSchema(name: string, text: string): GraphQLSchema {
  const cached = SCHEMAS.get(text);
  if (cached) return cached;
  const schema = buildSchemaOrThrow(name, text);
  if (SCHEMAS.size >= MAX_CACHED_SCHEMAS) SCHEMAS.clear();
  SCHEMAS.set(text, schema);
  return schema;
}

/** buildASTSchema names an unknown type without a location: find its first use, as gqlparser reports it. */
function withUnknownTypeLocation(e: Error, doc: DocumentNode): Error {
  const unknown = /^Unknown type:? "([_A-Za-z][_0-9A-Za-z]*)"/.exec(e.message)?.[1];
  if (!unknown || e instanceof GraphQLError) return e;
  let at: NamedTypeNode | undefined;
  visit(doc, {
    NamedType(node) {
      if (!at && node.name.value === unknown) at = node;
    },
  });
  return at ? new GraphQLError(`Unknown type "${unknown}"`, { nodes: at }) : e;
}

function buildSchemaOrThrow(name: string, text: string): GraphQLSchema {
  syntax(name, () => parseSchemaAst(text));
  let schema: GraphQLSchema;
  let doc: DocumentNode | undefined;
  try {
    doc = defineExtendedTypes(parse(text));
    schema = buildASTSchema(doc);
  } catch (e) {
    throw graphqlError(name, doc ? withUnknownTypeLocation(e as Error, doc) : (e as Error), SCHEMA_STRING);
  }
  const problem = validateSchema(schema).find((e) => e.message !== ROOT_QUERY_MISSING);
  if (problem) throw graphqlError(name, problem, SCHEMA_STRING);
  return schema;
}

/** Parses and validates a query against a schema; returns both ASTs (gqlparser shape). */
function parseAndValidate(name: string, args: readonly Value[]): [Json, Json] {
  const queryText = sourceText(name, args[0], 0, printQueryAst);
  const schemaText = sourceText(name, args[1], 1, printSchemaAst);
  const queryAst = syntax(name, () => parseQueryAst(queryText));
  const schema = loadSchema(name, schemaText);
  const empty = queryAst !== null && typeof queryAst === 'object' && Object.keys(queryAst).length === 0;
  if (!empty) {
    let doc: DocumentNode;
    try {
      // Our parser accepted the text; graphql-js must not fail untyped where it reads less
      // (fragment variable definitions are experimental in both).
      doc = parse(queryText, { allowLegacyFragmentVariables: true });
    } catch (e) {
      throw graphqlError(name, e as Error);
    }
    const errors = validate(schema, doc);
    if (errors.length > 0) throw graphqlError(name, errors[0]);
  }
  return [queryAst, syntax(name, () => parseSchemaAst(schemaText))];
}

/** Runs `f`, answering `fallback` when the GraphQL input is bad (not when the operands are). */
function orElse<T>(fallback: T, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof BuiltinError) return fallback;
    throw e;
  }
}

export const builtins: BuiltinTable = {
  'graphql.parse_query': {
    arity: 1,
    fn: (args) => {
      const text = expectString('graphql.parse_query', args, 0);
      return fromJson(syntax('graphql.parse_query', () => parseQueryAst(text)));
    },
  },
  'graphql.parse_schema': {
    arity: 1,
    fn: (args) => {
      const text = expectString('graphql.parse_schema', args, 0);
      return fromJson(syntax('graphql.parse_schema', () => parseSchemaAst(text)));
    },
  },
  'graphql.parse': {
    arity: 2,
    fn: (args) => fromJson(parseAndValidate('graphql.parse', args)),
  },
  'graphql.parse_and_verify': {
    arity: 2,
    fn: (args) => {
      const unverified: Json = [false, {}, {}];
      return fromJson(orElse<Json>(unverified, () => [true, ...parseAndValidate('graphql.parse_and_verify', args)]));
    },
  },
  'graphql.schema_is_valid': {
    arity: 1,
    fn: ([schema]) => {
      if (typeof schema !== 'string' && !(schema instanceof RObject)) return false;
      return orElse(false, () => {
        loadSchema('graphql.schema_is_valid', sourceText('graphql.schema_is_valid', schema, 0, printSchemaAst));
        return true;
      });
    },
  },
  'graphql.is_valid': {
    arity: 2,
    fn: (args) => {
      if (!args.every((a) => typeof a === 'string' || a instanceof RObject)) return false;
      return orElse(false, () => {
        parseAndValidate('graphql.is_valid', args);
        return true;
      });
    },
  },
};
