/** The engine's public API on language features that need more than one rule to show, and its limits. */
import { describe, expect, it } from 'vitest';
import { RegoEngine, RegoError, RegoLimitError, serializeJson, type Value } from '../../src/rego/index.js';

function evalIn(module: string, ref: string, input?: unknown): Value | undefined {
  const engine = new RegoEngine();
  engine.addModule(module, 'test.rego');
  return engine.evalRule(ref, input === undefined ? {} : { input }).value;
}

const show = (v: Value | undefined) => (v === undefined ? 'undefined' : serializeJson(v));

describe('ref heads', () => {
  it('build nested objects from several variable keys and merge rules at other depths', () => {
    const module = 'package t\np[q].r.s := i if q := ["a", "b"][i]\np.d.r := 3\n';
    expect(show(evalIn(module, 'data.t.p'))).toBe('{"a":{"r":{"s":0}},"b":{"r":{"s":1}},"d":{"r":3}}');
  });

  it('collect multi-value leaves into sets', () => {
    const module = 'package t\np[x].r contains y if { some x in ["a", "b"]; some y in [1, 2] }\np.b.r contains 3\n';
    expect(show(evalIn(module, 'data.t.p'))).toBe('{"a":{"r":[1,2]},"b":{"r":[1,2,3]}}');
  });

  it('report a conflict when a rule extends another rule’s value', () => {
    const module = 'package t\np[q].r := v if { q := "q"; v := {"s": 1} }\np.q.r.u := 42\n';
    expect(() => evalIn(module, 'data.t.p')).toThrow(expect.objectContaining({ code: 'eval_conflict_error' }));
  });
});

describe('with', () => {
  it('replaces a function with a local value', () => {
    const module = 'package t\nf(1) := 2\np if { v := 1; q with f as v }\nq if f(1) == 1\n';
    expect(evalIn(module, 'data.t.p')).toBe(true);
  });

  it('applies inside template strings and on following lines', () => {
    const module = 'package t\na := input.a\np := $"x{a with input as {"a": 42}}"\nq := y if {\n  y := a\n    with input.a as 7\n}\n';
    expect(evalIn(module, 'data.t.p')).toBe('x42');
    expect(evalIn(module, 'data.t.q')).toBe(7);
  });
});

describe('function mocks', () => {
  const module = [
    'package t',
    'mock_count(_) := 7',
    'mock_upper(_) := "X"',
    'n := count(upper("a"))',
    'p := x if { x := n with count as mock_count with upper as mock_upper }',
    'uses_other(s) := count(s)',
    'q := x if { x := upper("abc") with upper as uses_other with count as mock_count }',
    'r := [x, y] if { x := count(upper("a")) with count as mock_count; y := count("abc") }',
  ].join('\n');

  it('evaluate a mocked call’s arguments under the other mocks', () => {
    // count's argument calls the mocked upper; the mocked count then ignores it.
    expect(evalIn(module, 'data.t.p')).toBe(7);
  });

  it('run the replacement itself without mocks, and the rest of the body without them too', () => {
    expect(evalIn(module, 'data.t.q')).toBe(3);
    expect(show(evalIn(module, 'data.t.r'))).toBe('[7,3]');
  });
});

describe('builtin edge cases the conformance suite does not reach', () => {
  const q = (expr: string) => show(evalIn(`package t\np := ${expr}\n`, 'data.t.p'));

  it('strings.replace_n: an empty pattern inserts between characters, as Go’s strings.Replacer', () => {
    expect(q('strings.replace_n({"": "x", "a": "y"}, "ab")')).toBe('"xyxbx"');
    expect(q('strings.replace_n({"": "-"}, "")')).toBe('"-"');
  });

  it('json.patch: "" is the whole document, "/" the empty key', () => {
    expect(q('json.patch({"a": 1}, [{"op": "add", "path": "", "value": [1]}])')).toBe('[1]');
    expect(q('json.patch({"a": 1}, [{"op": "add", "path": "/", "value": 2}])')).toBe('{"":2,"a":1}');
  });
});

describe('builtins owned by the core', () => {
  it('walk enumerates every path in pre-order', () => {
    const module = 'package t\np := [k | walk({"a": [1]}, [k, _])]\n';
    expect(show(evalIn(module, 'data.t.p'))).toBe('[[],["a"],["a",0]]');
  });

  it('http.send never reaches the network: undefined, or an error in strict mode', () => {
    const module = 'package t\np := http.send({"method": "get", "url": "http://127.0.0.1:1"})\n';
    expect(evalIn(module, 'data.t.p')).toBeUndefined();
    const strict = new RegoEngine({ strictBuiltinErrors: true });
    strict.addModule(module, 'test.rego');
    expect(() => strict.evalRule('data.t.p')).toThrow(RegoError);
  });
});

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

  it('rule() is the rule’s own annotations, also inside comprehensions; {} without any', () => {
    const engine = new RegoEngine();
    engine.addModule(inner, 'b.rego');
    engine.addModule('package c\nq := rego.metadata.rule()\n', 'c.rego');
    expect(show(engine.evalRule('data.a.b.r').value)).toBe(show(engine.evalRule('data.a.b.q').value).replace(/^/, '[') + ']');
    expect(show(engine.evalRule('data.c.q').value)).toBe('{}');
  });

  it('refuses a METADATA block that is not YAML, with its line', () => {
    const engine = new RegoEngine();
    expect(() => engine.addModule('# METADATA\n# title: [unclosed\npackage x\n', 'x.rego')).toThrow(expect.objectContaining({ code: 'rego_parse_error' }));
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
