/** json.match_schema / json.verify_schema beyond the conformance cases: keywords of drafts 4–7, gojsonschema's texts. */
import { describe, expect, it } from 'vitest';
import { matchSchema } from '../../src/rego/builtins/jsonschema.js';
import { RegoEngine, serializeJson } from '../../src/rego/index.js';

const types = (doc: unknown, schema: unknown) => matchSchema(doc as never, schema as never).map((e) => `${e.field} ${e.type}`);

describe('json.match_schema keywords', () => {
  it('reports type, required and nested fields with dotted paths', () => {
    const schema = { type: 'object', required: ['a', 'b'], properties: { a: { type: 'array', items: { type: 'object', properties: { n: { type: 'integer' } } } } } };
    expect(types({ a: [{ n: 1 }, { n: 1.5 }] }, schema)).toEqual(['(root) required', 'a.1.n invalid_type']);
    expect(matchSchema({ a: [] } as never, schema as never)[0].desc).toBe('b is required');
  });

  it('checks numbers: bounds of draft 4 and draft 7 and multipleOf', () => {
    expect(types(5, { minimum: 5, exclusiveMinimum: true })).toEqual(['(root) number_gt']);
    expect(types(5, { exclusiveMaximum: 5 })).toEqual(['(root) number_lt']);
    expect(types(5, { minimum: 5, maximum: 5 })).toEqual([]);
    expect(types(0.3, { multipleOf: 0.1 })).toEqual([]);
    expect(types(7, { multipleOf: 2 })).toEqual(['(root) multiple_of']);
  });

  it('checks strings in code points, patterns with RE2 and formats', () => {
    expect(types('héé', { maxLength: 3 })).toEqual([]);
    expect(types('abc', { pattern: '^a(b|c)+$' })).toEqual([]);
    expect(types('abd', { pattern: '^a(b|c)+$' })).toEqual(['(root) pattern']);
    expect(types('10.0.0.256', { format: 'ipv4' })).toEqual(['(root) format']);
    expect(types('2026-11-23T05:00:00Z', { format: 'date-time' })).toEqual([]);
  });

  it('checks arrays: tuple items, additionalItems, uniqueItems, contains', () => {
    expect(types([1, 'x', true], { items: [{ type: 'integer' }, { type: 'string' }], additionalItems: false })).toEqual(['(root) array_no_additional_items']);
    expect(types([1, 2, 1], { uniqueItems: true })).toEqual(['(root) unique']);
    expect(types([1, 2], { contains: { type: 'string' } })).toEqual(['(root) contains']);
  });

  it('checks objects: additional and pattern properties, dependencies, propertyNames', () => {
    const schema = { properties: { a: {} }, patternProperties: { '^x-': { type: 'string' } }, additionalProperties: false, dependencies: { a: ['b'] } };
    expect(types({ a: 1, 'x-y': 2, z: 3 }, schema)).toEqual(['x-y invalid_type', '(root) additional_property_not_allowed', '(root) missing_dependency']);
    expect(types({ AB: 1 }, { propertyNames: { pattern: '^[a-z]+$' } })).toEqual(['AB invalid_property_name']);
  });

  it('combines schemas: allOf, anyOf, oneOf, not, if/then/else, enum, const', () => {
    expect(types(3, { oneOf: [{ type: 'integer' }, { type: 'number' }] })).toEqual(['(root) number_one_of']);
    expect(types('a', { anyOf: [{ type: 'integer' }, { const: 'a' }] })).toEqual([]);
    expect(types(1, { not: { type: 'integer' } })).toEqual(['(root) number_not']);
    expect(types({ kind: 'a' }, { if: { properties: { kind: { const: 'a' } } }, then: { required: ['x'] }, else: { required: ['y'] } })).toEqual(['(root) condition_then']);
    expect(types('c', { enum: ['a', 'b'] })).toEqual(['(root) enum']);
  });

  it('follows local $refs, refuses remote ones and bad schemas', () => {
    const schema = { definitions: { port: { type: 'integer', maximum: 65535 } }, properties: { port: { $ref: '#/definitions/port' } } };
    expect(types({ port: 70000 }, schema)).toEqual(['port number_lte']);
    expect(() => matchSchema({} as never, { $ref: 'https://example.com/s.json' } as never)).toThrow(/remote reference/);
    expect(() => matchSchema({} as never, { type: 'integer', pattern: '(' } as never)).toThrow(/Invalid regex/);
  });
});

describe('the builtins in policies', () => {
  const run = (query: string) => {
    const engine = new RegoEngine();
    engine.addModule(`package t\np := ${query}\n`, 't.rego');
    const v = engine.evalRule('data.t.p').value;
    return v === undefined ? 'undefined' : serializeJson(v);
  };

  it('return [true, []] / [false, errors] and verify schemas given as strings or objects', () => {
    expect(run('json.match_schema({"a": "x"}, {"properties": {"a": {"type": "integer"}}})')).toBe(
      '[false,[{"desc":"Invalid type. Expected: integer, given: string","error":"a: Invalid type. Expected: integer, given: string","field":"a","type":"invalid_type"}]]',
    );
    expect(run('json.verify_schema(`{"type": ["string", "null"]}`)')).toBe('[true,null]');
    expect(run('json.verify_schema({"required": "a"})')).toBe('[false,"jsonschema: required must be an array of strings"]');
  });

  it('are undefined on a bad schema outside strict mode (fail closed in a rule)', () => {
    expect(run('json.match_schema({}, {"type": "nope"})')).toBe('undefined');
  });
});
