/** Parsed and compiled policies are cached by hash: engines sharing a policy must still behave independently. */
import { describe, expect, it } from 'vitest';
import { RegoEngine } from '../../src/rego/index.js';

const policy = (n: number) => `package p\nallow if input.n == ${n}\nx := data.base.v\n`;

describe('compiled policy cache', () => {
  it('gives each engine the results of its own modules and data', () => {
    const a = new RegoEngine();
    const b = new RegoEngine();
    a.addModule(policy(1), 'p.rego');
    b.addModule(policy(1), 'p.rego');
    a.setData({ base: { v: 'a' } });
    b.setData({ base: { v: 'b' } });
    expect(a.evalRule('data.p.allow', { input: { n: 1 } }).value).toBe(true);
    expect(b.evalRule('data.p.x').value).toBe('b');
    expect(a.evalRule('data.p.x').value).toBe('a');
  });

  it('sees a replaced or removed module, not the cached one', () => {
    const e = new RegoEngine();
    e.addModule(policy(1), 'p.rego');
    e.addModule(policy(2), 'p.rego');
    expect(e.evalRule('data.p.allow', { input: { n: 1 } }).value).toBeUndefined();
    expect(e.evalRule('data.p.allow', { input: { n: 2 } }).value).toBe(true);
    e.addModule('package q\ny := 1\n', 'q.rego');
    e.removeModule('q.rego');
    expect(e.evalRule('data.q.y').value).toBeUndefined();
    e.addModule(policy(1), 'p.rego');
    expect(e.evalRule('data.p.allow', { input: { n: 1 } }).value).toBe(true);
  });

  it('keys the cache by syntax: the same text can parse under v0 and fail under v1', () => {
    const text = 'package p\nallow { input.n == 1 }\n';
    const v0 = new RegoEngine();
    v0.addModule(text, 'p.rego', { syntax: 'v0' });
    expect(v0.evalRule('data.p.allow', { input: { n: 1 } }).value).toBe(true);
    expect(() => new RegoEngine().addModule(text, 'p.rego', { syntax: 'v1' })).toThrow();
  });

  it('resolves bare rule names per policy when the same module is compiled with different neighbours', () => {
    const shared = 'package p\ny := x\n';
    const a = new RegoEngine();
    a.addModule(shared, 's.rego');
    a.addModule('package p\nx := 1\n', 'a.rego');
    const b = new RegoEngine();
    b.addModule(shared, 's.rego');
    b.addModule('package p\nx := 2\n', 'b.rego');
    expect(a.evalRule('data.p.y').value).toBe(1);
    expect(b.evalRule('data.p.y').value).toBe(2);
    expect(a.evalRule('data.p.y').value).toBe(1);
  });
});
