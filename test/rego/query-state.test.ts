/** Per-query state of the evaluator: print() gathering on and off, and the memo of costly builtin calls. */
import { describe, expect, it } from 'vitest';
import { RegoEngine } from '../../src/rego/index.js';
import { toJson } from '../../src/rego/value.js';

function engine(text: string): RegoEngine {
  const e = new RegoEngine({ strictBuiltinErrors: true });
  e.addModule(text, 'p.rego', { syntax: 'v1' });
  return e;
}

describe('print() gathering', () => {
  const e = engine(`package p
allow if {
  print("user", input.user)
  input.user == "alice"
}
`);

  it('is on by default: the lines are there to read', () => {
    expect(e.evalRule('data.p.allow', { input: { user: 'alice' } }).prints).toEqual(['user alice']);
  });

  it('off, print() holds, nothing is gathered, and the decision is the same', () => {
    const on = e.evalRule('data.p.allow', { input: { user: 'bob' } });
    const off = e.evalRule('data.p.allow', { input: { user: 'bob' }, prints: false });
    expect(on.prints).toEqual(['user bob']);
    expect(off.prints).toEqual([]);
    expect(off.value).toEqual(on.value);
    expect(e.evalRule('data.p.allow', { input: { user: 'alice' }, prints: false }).value).toBe(true);
  });
});

describe('memo of costly builtin calls within a query', () => {
  it('tells apart calls that share the first operand, and operands of different types', () => {
    const e = engine(`package p
matches := [regex.match("^a", s) | some s in ["a", "b", "a", "ab", "b"]]
marshalled := [json.marshal(x) | some x in [1, "1", true, "true", null, 1]]
`);
    expect(toJson(e.evalRule('data.p.matches').value!)).toEqual([true, false, true, true, false]);
    expect(toJson(e.evalRule('data.p.marshalled').value!)).toEqual(['1', '"1"', 'true', '"true"', 'null', '1']);
  });

  it('does not outlive the query: the next query on other data computes afresh', () => {
    const e = engine(`package p
m := regex.match(data.pattern, "abc")
`);
    e.setData({ pattern: '^a' });
    expect(e.evalRule('data.p.m').value).toBe(true);
    e.setData({ pattern: '^b' });
    expect(e.evalRule('data.p.m').value).toBe(false);
  });
});

describe('start-up warm-up', () => {
  it('decides its policy as meant, so the paths it is there to warm are taken', async () => {
    const { warmUp } = await import('../../src/rego/index.js');
    expect(warmUp()).toBe(true);
  });
});
