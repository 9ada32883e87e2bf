/**
 * The engine's public API: limits, annotations read through several modules, rego.parse_module's AST.
 * Plain policy + input + expected cases live in test/rego/cases/**\/*.yaml (run by cases.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { RegoEngine, RegoLimitError, serializeJson } from '../../src/rego/index.js';

describe('limits', () => {
  it('refuses a module over the source size limit', () => {
    const engine = new RegoEngine({ limits: { maxSourceBytes: 100 } });
    expect(() => engine.addModule(`package t\np := "${'x'.repeat(200)}"\n`, 'big.rego')).toThrow(RegoLimitError);
  });

  it('refuses input nested deeper than the limit, without overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const engine = new RegoEngine();
    engine.addModule('package t\np := input\n', 'test.rego');
    expect(() => engine.evalRule('data.t.p', { input: deep })).toThrow(RegoLimitError);
  });

  it('stops at the wall-clock timeout', () => {
    const engine = new RegoEngine({ limits: { timeoutMs: 50, maxSteps: Number.MAX_SAFE_INTEGER } });
    engine.addModule('package t\np := count([1 | numbers.range(1, 1000)[_]; numbers.range(1, 1000)[_]; numbers.range(1, 1000)[_]])\n', 'test.rego');
    expect(() => engine.evalRule('data.t.p')).toThrow(RegoLimitError);
  });
});

describe('METADATA annotations', () => {
  const module = [
    '# METADATA',
    '# title: Tree',
    '# scope: subpackages',
    'package a',
    '',
  ].join('\n');
  const inner = [
    '# METADATA',
    '# description: inner',
    'package a.b',
    '',
    '# METADATA',
    '# title: the rule',
    '# authors:',
    '# - Ann Example <ann@example.com>',
    '# related_resources:',
    '# - https://example.com/doc',
    'p := rego.metadata.chain()',
    'q := rego.metadata.rule()',
    'r := [x | x := rego.metadata.rule()]',
  ].join('\n');

  it('chain runs from the rule through its package to ancestors with subpackages scope', () => {
    const engine = new RegoEngine();
    engine.addModule(module, 'a.rego');
    engine.addModule(inner, 'b.rego');
    const chain = JSON.parse(serializeJson(engine.evalRule('data.a.b.p').value ?? null)) as { path: string[]; annotations?: Record<string, unknown> }[];
    expect(chain.map((c) => c.path.join('.'))).toEqual(['a.b.p', 'a.b', 'a']);
    expect(chain[0].annotations).toMatchObject({ scope: 'rule', authors: [{ name: 'Ann Example', email: 'ann@example.com' }], related_resources: [{ ref: 'https://example.com/doc' }] });
    expect(chain[2].annotations).toMatchObject({ scope: 'subpackages', title: 'Tree' });
  });
});

describe('rego.parse_module', () => {
  const parse = (text: string) => {
    const engine = new RegoEngine({ strictBuiltinErrors: true });
    engine.addModule('package t\np := rego.parse_module("m.rego", input.text)\n', 't.rego');
    return JSON.parse(serializeJson(engine.evalRule('data.t.p', { input: { text } }).value ?? null)) as Record<string, unknown>;
  };

  it('returns OPA-shaped JSON: package path terms, imports, rule heads and bodies with operator refs', () => {
    const ast = parse('package a.b\nimport data.c as d\nallow if input.n > 1\n') as { package: { path: unknown[] }; imports: unknown[]; rules: { head: { name: string }; body: { terms: unknown[] }[] }[] };
    expect(ast.package.path).toEqual([{ type: 'var', value: 'data' }, { type: 'string', value: 'a' }, { type: 'string', value: 'b' }]);
    expect(ast.imports).toEqual([{ path: { type: 'ref', value: [{ type: 'var', value: 'data' }, { type: 'string', value: 'c' }] }, alias: 'd' }]);
    expect(ast.rules[0].head.name).toBe('allow');
    expect(ast.rules[0].body[0].terms[0]).toEqual({ type: 'ref', value: [{ type: 'var', value: 'gt' }] });
  });

  it('reports a parse error with the file, line and OPA code', () => {
    expect(() => parse('package foo.')).toThrow(/m\.rego:1: rego_parse_error: unexpected eof token: expected ident/);
  });
});
