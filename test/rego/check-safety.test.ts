/**
 * safety.ts on its own: the order it gives a body (OPA's reorderBodyForSafety table, as the compiler
 * test of OPA states it) and where it reports unsafe variables.
 */
import { describe, expect, it } from 'vitest';
import { lookupBuiltin } from '../../src/rego/builtins/index.js';
import { parseQuery } from '../../src/rego/parser.js';
import { orderBody, unsafeMessage, type BodyOrders, type SafetyEnv } from '../../src/rego/safety.js';

/** Queries see input and data; `data.funcs.fn` is a user function of one argument. */
const env: SafetyEnv = {
  isGlobal: (name) => name === 'input' || name === 'data',
  arity: (fn) => (fn.join('.') === 'data.funcs.fn' ? 1 : (lookupBuiltin(fn.join('.'))?.arity ?? -1)),
  isFunction: (path) => lookupBuiltin(path.join('.')) !== undefined,
};

function ordered(query: string): string {
  const body = parseQuery(query, 'q.rego');
  const result = orderBody(body, env);
  expect(result.unsafe.map(unsafeMessage)).toEqual([]);
  return result.body.map((e) => e.text).join('; ');
}

describe('safety: statement order', () => {
  it.each([
    ['noop', 'x = 1; x != 0', 'x = 1; x != 0'],
    ['var/ref', 'a[i] = x; a = [1, 2, 3, 4]', 'a = [1, 2, 3, 4]; a[i] = x'],
    ['var/ref (nested)', 'a = [1, 2, 3, 4]; a[b[i]] = x; b = [0, 0, 0, 0]', 'a = [1, 2, 3, 4]; b = [0, 0, 0, 0]; a[b[i]] = x'],
    ['negation', 'a = [true, false]; b = [true, false]; not a[i]; b[i]', 'a = [true, false]; b = [true, false]; b[i]; not a[i]'],
    ['built-in', 'x != 0; count([1, 2, 3], x)', 'count([1, 2, 3], x); x != 0'],
    ['var/var 1', 'x = y; z = 1; y = z', 'z = 1; y = z; x = y'],
    ['var/var 2', 'x = y; 1 = z; z = y', '1 = z; z = y; x = y'],
    ['var/var 3', 'x != 0; y = x; y = 1', 'y = 1; y = x; x != 0'],
    ['array compr/var', 'x != 0; [y | y = 1] = x', '[y | y = 1] = x; x != 0'],
    ['array compr/array', '[1] != [x]; [y | y = 1] = [x]', '[y | y = 1] = [x]; [1] != [x]'],
    ['with', 'data.a.b.d.t with input as x; x = 1', 'x = 1; data.a.b.d.t with input as x'],
    ['with-2', 'data.a.b.d.t with input.x as x; x = 1', 'x = 1; data.a.b.d.t with input.x as x'],
    ['with-nop', 'data.somedoc[x] with input as true', 'data.somedoc[x] with input as true'],
    ['ref-head', 's = [["foo"], ["bar"]]; x = y[0]; y = s[_]; contains(x, "oo")', 's = [["foo"], ["bar"]]; y = s[_]; x = y[0]; contains(x, "oo")'],
    ['userfunc', 'split(y, ".", z); data.funcs.fn("...foo.bar..", y)', 'data.funcs.fn("...foo.bar..", y); split(y, ".", z)'],
    ['every', 'every _ in [] { x != 1 }; x = 1', 'x = 1; every _ in [] { x != 1 }'],
    ['every-domain', 'every _ in xs { true }; xs = [1]', 'xs = [1]; every _ in xs { true }'],
    ['some in', 'x > 1; some x in xs; xs := [1, 2]', 'xs := [1, 2]; some x in xs; x > 1'],
  ])('%s', (_note, body, want) => {
    expect(ordered(body)).toBe(want);
  });

  it('orders nested comprehension bodies and keeps each order apart (only where it changed)', () => {
    const body = parseQuery('xs = [x | a[i] = x; a = [y | y != 1; y = c[j]]]; c = [1, 2]', 'q.rego');
    const orders: BodyOrders = new WeakMap();
    const result = orderBody(body, env, orders);
    expect(result.body.map((e) => e.text)).toEqual(['c = [1, 2]', 'xs = [x | a[i] = x; a = [y | y != 1; y = c[j]]]']);
    expect(orders.get(body)).toBe(result.body);
    const outer = body[0];
    if (outer.kind !== 'unify' || outer.rhs.type !== 'arraycomp') throw new Error('expected a comprehension');
    const comp = outer.rhs;
    expect(orders.get(comp.body)?.map((e) => e.text)).toEqual(['a = [y | y != 1; y = c[j]]', 'a[i] = x']);
    const innerComp = comp.body[1];
    if (innerComp.kind !== 'unify' || innerComp.rhs.type !== 'arraycomp') throw new Error('expected a comprehension');
    expect(orders.get(innerComp.rhs.body)?.map((e) => e.text)).toEqual(['y = c[j]', 'y != 1']);
    // a body already in a safe order is not stored
    const safe = parseQuery('x = 1; x > 0', 'q.rego');
    orderBody(safe, env, orders);
    expect(orders.has(safe)).toBe(false);
  });

  it('reports each unsafe variable once, at the first expression that reads it, by location', () => {
    const body = parseQuery('x > 1\ny = x\nz < y\nnot w', 'q.rego');
    const result = orderBody(body, env);
    expect(result.unsafe.map((u) => [unsafeMessage(u), u.loc.line])).toEqual([
      ['var x is unsafe', 1],
      ['var y is unsafe', 2],
      ['var z is unsafe', 3],
      ['var w is unsafe', 4],
    ]);
    expect(result.body).toBe(body);
  });

  it('reports an expression unsafe only through _ as OPA does, and keeps function arguments bound', () => {
    expect(orderBody(parseQuery('not input.xs[_]', 'q.rego'), env).unsafe.map(unsafeMessage)).toEqual(['expression is unsafe']);
    expect(orderBody(parseQuery('y := x + 1', 'q.rego'), env, undefined, ['x']).unsafe).toEqual([]);
  });
});
