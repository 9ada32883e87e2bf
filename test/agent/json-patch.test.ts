import { describe, expect, it } from 'vitest';
import { applyJsonPatch, JsonPatchError } from '../../src/agent/json-patch.js';

describe('JSON Patch (RFC 6902)', () => {
  it('applies add, replace, remove, move, copy and test', () => {
    const doc = { pstate: { a: 1, list: [1, 2] } };
    const out = applyJsonPatch(doc, [
      { op: 'add', path: '/pstate/b', value: { x: 'y' } },
      { op: 'replace', path: '/pstate/a', value: 2 },
      { op: 'add', path: '/pstate/list/-', value: 3 },
      { op: 'remove', path: '/pstate/list/0' },
      { op: 'copy', from: '/pstate/b', path: '/pstate/c' },
      { op: 'move', from: '/pstate/c', path: '/pstate/d' },
      { op: 'test', path: '/pstate/a', value: 2 },
    ]);
    expect(out).toEqual({ pstate: { a: 2, b: { x: 'y' }, d: { x: 'y' }, list: [2, 3] } });
    expect(doc).toEqual({ pstate: { a: 1, list: [1, 2] } }); // the input is untouched
  });

  it('unescapes ~1 and ~0 in pointers', () => {
    expect(applyJsonPatch({}, [{ op: 'add', path: '/a~1b~0c', value: 1 }])).toEqual({ 'a/b~c': 1 });
  });

  it('fails on a missing path, a failed test or a bad index, naming the operation', () => {
    expect(() => applyJsonPatch({}, [{ op: 'remove', path: '/nope' }])).toThrow(JsonPatchError);
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow(/operation 0: test failed/);
    expect(() => applyJsonPatch({ l: [] }, [{ op: 'add', path: '/l/5', value: 1 }])).toThrow(/out of range/);
    expect(() => applyJsonPatch({}, [{ op: 'replace', path: '/x', value: 1 }])).toThrow(/does not exist/);
  });
});
