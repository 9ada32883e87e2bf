/** The check stage: errors OPA's compiler reports before evaluation, with OPA's codes and locations. */
import { describe, expect, it } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { RegoEngine, RegoError } from '../../src/rego/index.js';
import { sharedPath } from '../helpers/shared.js';

function checkError(text: string): RegoError {
  const e = new RegoEngine();
  e.addModule(text, 'p.rego');
  try {
    e.check();
  } catch (error) {
    expect(error).toBeInstanceOf(RegoError);
    return error as RegoError;
  }
  throw new Error('expected a check error');
}

describe('check stage', () => {
  it('rejects an unreached call to an undefined function, at the call', () => {
    const err = checkError('package p\nallow if false\nx if {\n\tfalse\n\tnot_a_function(1)\n}\n');
    expect(err.regoCode).toBe('rego_type_error');
    expect(err.message).toBe('undefined function not_a_function');
    expect(err.location).toMatchObject({ file: 'p.rego', line: 5 });
  });

  it('rejects arity mismatches of builtins and user functions', () => {
    expect(checkError('package p\nx := count(1, 2, 3)\n').message).toMatch(/^count: arity mismatch/);
    const user = checkError('package p\nf(a) := a\nx := f(1, 2, 3)\n');
    expect(user.regoCode).toBe('rego_type_error');
    expect(user.message).toContain('data.p.f has arity 1, got 3 arguments');
  });

  it('rejects arithmetic on operands of a known wrong type (input.n + "text")', () => {
    const err = checkError('package p\nallow if {\n\tinput.n + "text" > 0\n}\n');
    expect(err.regoCode).toBe('rego_type_error');
    expect(err.message).toBe('plus: invalid argument(s)\n\thave: (any, string)\n\twant: (number, number)');
    expect(err.location).toMatchObject({ line: 3 });
    expect(checkError('package p\nx := [1] * 2\n').message).toMatch(/^mul: invalid argument/);
    // minus takes two sets as well: a set literal is fine at compile time (OPA: eval_type_error when mixed).
    const ok = new RegoEngine();
    ok.addModule('package p\nx := {1, 2} - {1}\ny := input.a + input.b\n', 'p.rego');
    expect(() => ok.check()).not.toThrow();
  });

  it('resolves functions through data refs, imports and other modules added later', () => {
    const e = new RegoEngine();
    e.addModule('package a\nimport data.lib\nx := lib.f(1) + data.lib.f(2)\n', 'a.rego');
    e.addModule('package lib\nf(n) := n * 10\n', 'lib.rego');
    expect(e.evalRule('data.a.x').value).toBe(30);
  });

  it('fails every evaluation of a policy that does not check (fail closed)', () => {
    const e = new RegoEngine();
    e.addModule('package p\ndefault allow := true\nnever if undefined_fn(1)\n', 'p.rego');
    expect(() => e.evalRule('data.p.allow')).toThrow(/undefined function undefined_fn/);
    expect(() => e.evalQuery('x := 1')).toThrow(/undefined function/);
    const q = new RegoEngine();
    q.addModule('package p\nf(x) := x\n', 'p.rego');
    expect(() => q.evalQuery('y := data.p.f(1); z := nope(y)')).toThrow(/undefined function nope/);
    expect(q.evalQuery('y := data.p.f(1)').value).toEqual([{ y: 1 }]);
  });

  it('runs bodies in the safe order it computed, queries too (the trace follows that order)', () => {
    const e = new RegoEngine();
    e.addModule('package p\nallow if {\n\tx > 1\n\tx := input.n\n}\n', 'p.rego');
    const evaluated: string[] = [];
    const tracer = (ev: { op: string; node: string; text?: string }) => {
      if (ev.op === 'eval' && ev.node === 'expr') evaluated.push(ev.text ?? '');
    };
    expect(e.evalRule('data.p.allow', { input: { n: 2 }, tracer }).value).toBe(true);
    expect(evaluated).toEqual(['x := input.n', 'x > 1']);
    expect(e.evalQuery('y > 0; y = 1').value).toEqual([{ y: 1 }]);
    const err = (() => {
      try {
        e.evalQuery('y > 0');
      } catch (error) {
        return error as RegoError;
      }
      throw new Error('expected an unsafe variable');
    })();
    expect(err.regoCode).toBe('rego_unsafe_var_error');
    expect(err.message).toBe('var y is unsafe');
  });

  it('passes the recorded Kata policies', () => {
    const dir = sharedPath('kata-requests');
    if (!dir) return;
    for (const name of ['k8s-policy-pod', 'pod-exec']) {
      const file = join(dir, name, 'policy.rego');
      if (!existsSync(file)) continue;
      const e = new RegoEngine();
      e.addModule(readFileSync(file, 'utf8'), 'policy.rego', { syntax: 'v0' });
      expect(() => e.check()).not.toThrow();
    }
  });
});
