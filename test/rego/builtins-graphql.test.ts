/** The gqlparser-compatible GraphQL parser under random input: only typed syntax errors, and printing round-trips. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GraphqlSyntaxError, parseQueryAst, parseSchemaAst } from '../../src/rego/builtins/graphql-parser.js';
import { printQueryAst, printSchemaAst } from '../../src/rego/builtins/graphql-print.js';
import { RegoEngine, RegoError } from '../../src/rego/index.js';

const piece = fc.constantFrom(
  '{', '}', '(', ')', '[', ']', ':', '!', '$', '@', '=', '|', '&', '...', ',', ' ', '\n', '"', '"""', '\\', '#',
  'query', 'mutation', 'fragment', 'on', 'type', 'extend', 'schema', 'input', 'enum', 'union', 'directive',
  'a', 'B', '1', '-2.5e3', 'true', 'null', '"s"', '.', '\r', 'é',
);
const text = fc.array(piece, { maxLength: 40 }).map((p) => p.join(''));

function onlySyntaxErrors(parse: (s: string) => unknown): (s: string) => void {
  return (s) => {
    try {
      parse(s);
    } catch (e) {
      expect(e).toBeInstanceOf(GraphqlSyntaxError);
      const err = e as GraphqlSyntaxError;
      expect(err.line).toBeGreaterThanOrEqual(1);
      expect(err.column).toBeGreaterThanOrEqual(1);
    }
  };
}

describe('graphql parser', () => {
  it('fails on random input only with a located GraphqlSyntaxError', () => {
    fc.assert(fc.property(text, onlySyntaxErrors(parseQueryAst)), { numRuns: 2000 });
    fc.assert(fc.property(text, onlySyntaxErrors(parseSchemaAst)), { numRuns: 2000 });
  });

  it('the builtins answer random text with a value or a typed Rego error, never anything else', () => {
    const engine = new RegoEngine({ strictBuiltinErrors: true });
    engine.addModule('package t\nv := graphql.is_valid(input.q, input.s)\np := graphql.parse(input.q, input.s)\nsv := graphql.schema_is_valid(input.s)\n', 't.rego');
    const schemaish = fc.oneof(text, fc.constant('type Query { f(a: Int): Int }'));
    fc.assert(
      fc.property(text, schemaish, (q, s) => {
        for (const ref of ['data.t.v', 'data.t.sv']) expect(typeof engine.evalRule(ref, { input: { q, s } }).value).toBe('boolean');
        try {
          engine.evalRule('data.t.p', { input: { q, s } });
        } catch (e) {
          expect(e).toBeInstanceOf(RegoError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('prints what it parsed back to text that parses to the same AST', () => {
    const queries = [
      'query Q($a: [Int!]! = [1], $b: String @d) @op { x: f(a: $a, o: {k: "v", l: [true, null, E]}) @skip(if: $b) { ...F ... on T { g } ... @i { h } } }',
      'fragment F on T { id }',
      'subscription { s }',
    ];
    for (const q of queries) {
      const ast = parseQueryAst(q);
      expect(parseQueryAst(printQueryAst(ast))).toEqual(ast);
    }
    const schema = [
      '"d" schema @a { query: Q mutation: M }',
      'extend schema @b',
      'directive @d(x: Int = 1) repeatable on FIELD | OBJECT',
      '"""block""" type T implements I & J @k { "f" f(a: [String!] = ["x"]): T! }',
      'input In { a: Int = 2 @z }',
      'enum E { A B @deprecated }',
      'union U = A | B',
      'scalar S',
      'extend type T { g: Int }',
      'interface I implements J { f: T }',
    ].join('\n');
    const ast = parseSchemaAst(schema);
    expect(parseSchemaAst(printSchemaAst(ast))).toEqual(ast);
  });
});
