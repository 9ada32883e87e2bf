/** The check stage's recursion check: OPA's rego_recursion_error with the loop, before anything evaluates. */
import { describe, expect, it } from 'vitest';
import { RegoEngine, RegoError } from '../../src/rego/index.js';

function checked(...modules: string[]): RegoError | undefined {
  const e = new RegoEngine();
  modules.forEach((text, i) => e.addModule(text, `m${i}.rego`));
  try {
    e.check();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(RegoError);
    return error as RegoError;
  }
}

describe('check stage: recursion', () => {
  it('reports a loop between rules, unreached or not, with the loop and the rule location', () => {
    const err = checked('package x\nallow := true\n\ns if t\nt if {\n\tfalse\n\ts\n}\n');
    expect(err?.regoCode).toBe('rego_recursion_error');
    expect(err?.message).toBe('rule s is recursive: s -> t -> s');
    expect(err?.location).toMatchObject({ file: 'm0.rego', line: 4 });
  });

  it('follows longer loops, functions, comprehensions, imports and other modules', () => {
    expect(checked('package x\na if b\nb if c\nc if e\ne if a\n')?.message).toBe('rule a is recursive: a -> b -> c -> e -> a');
    expect(checked('package x\nf(n) := y if y := f(n)\n')?.message).toBe('rule f is recursive: f -> f');
    expect(checked('package x\nacp contains x if acq[x]\nacq contains x if {\n\ta := [true | acp[_]]\n\ta[_] = x\n}\n')?.message).toBe('rule acp is recursive: acp -> acq -> acp');
    expect(checked('package x\nimport data.y.q\np if q\n', 'package y\nq if data.x.p\n')?.message).toBe('rule p is recursive: p -> q -> p');
  });

  it('counts a constant ref to the own package or to data as a dependency on every rule in it', () => {
    expect(checked('package rec7\nprefix if data.rec7\n')?.message).toBe('rule prefix is recursive: prefix -> prefix');
    expect(checked('package rec8\ndataref if data\n')?.message).toBe('rule dataref is recursive: dataref -> dataref');
  });

  it('accepts what only looks recursive: locals named like rules, dynamic refs, with targets, non-cyclic chains', () => {
    expect(checked('package x\np if {\n\tq := 1\n\tq == 1\n}\nq if p\n')).toBeUndefined();
    expect(checked('package x\np := data[2]\n')).toBeUndefined();
    expect(checked('package x\nf(q) := q + 1\nq := f(1)\n')).toBeUndefined();
    expect(checked('package x\np if q with data.x.r as 1\nq if true\nr if true\n')).toBeUndefined();
    expect(checked('package x\na if b\nb if c\nc := 1\n')).toBeUndefined();
  });
});
