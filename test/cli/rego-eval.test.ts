/** `confcom rego eval` with opa's flags, through the real binary. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConfcom } from '../helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'confcom-rego-eval-'));
  mkdirSync(join(dir, 'policies', 'nested'), { recursive: true });
  mkdirSync(join(dir, 'policies', 'teams', 'blue'), { recursive: true });
  writeFileSync(join(dir, 'policies', 'nested', 'ex.rego'), 'package ex\n\nallow if input.user == "alice"\n\nnames contains n if some n in data.teams.blue.members\n');
  writeFileSync(join(dir, 'policies', 'teams', 'blue', 'data.json'), '{"members": ["ann", "bob"]}');
  writeFileSync(join(dir, 'policies', 'teams', 'limits.yaml'), 'max: 12\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const d = () => ['-d', join(dir, 'policies')];

describe('rego eval', () => {
  it('loads -d DIR recursively, data files at their folder path, input from stdin (-I), json as opa prints it', async () => {
    const r = await runConfcom(['rego', 'eval', ...d(), '-I', 'data.ex.allow'], { input: '{"user": "alice"}' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ result: [{ expressions: [{ value: true, text: 'data.ex.allow', location: { row: 1, col: 1 } }] }] });
    expect(r.stdout).toMatch(/^\{\n {2}"result": \[\n/); // indented by two spaces
    const teams = await runConfcom(['rego', 'eval', ...d(), 'data.teams', '-f', 'values']);
    expect(teams.stdout.replace(/\s+/g, '')).toBe('[{"blue":{"members":["ann","bob"]},"max":12}]');
  });

  it('--format values, bindings and pretty', async () => {
    const values = await runConfcom(['rego', 'eval', ...d(), 'data.ex.names', '-f', 'values']);
    expect(JSON.parse(values.stdout)).toEqual([['ann', 'bob']]);
    const bindings = await runConfcom(['rego', 'eval', ...d(), 'x := data.ex.names[_]', '--format', 'bindings']);
    expect(bindings.stdout.trim().split(/\n(?=\{)/).map((t) => JSON.parse(t))).toEqual([{ x: 'ann' }, { x: 'bob' }]);
    const table = await runConfcom(['rego', 'eval', ...d(), 'x := data.ex.names[_]', '-f', 'pretty']);
    expect(table.stdout.split('\n').slice(0, 5)).toEqual(['+-------+', '| x     |', '+-------+', '| "ann" |', '| "bob" |']);
    const single = await runConfcom(['rego', 'eval', ...d(), 'data.ex.names', '-f', 'pretty']);
    expect(JSON.parse(single.stdout)).toEqual(['ann', 'bob']);
    const undef = await runConfcom(['rego', 'eval', ...d(), 'data.ex.allow', '-f', 'pretty']);
    expect(undef.stdout).toBe('undefined\n');
  });

  it('--fail exits 1 on an undefined result, --fail-defined on a defined one', async () => {
    expect((await runConfcom(['rego', 'eval', ...d(), '-I', 'data.ex.allow', '--fail'], { input: '{"user": "bob"}' })).code).toBe(1);
    expect((await runConfcom(['rego', 'eval', ...d(), '-I', 'data.ex.allow', '--fail'], { input: '{"user": "alice"}' })).code).toBe(0);
    expect((await runConfcom(['rego', 'eval', ...d(), 'data.ex.names', '--fail-defined'])).code).toBe(1);
    expect((await runConfcom(['rego', 'eval', ...d(), 'data.ex.nothing', '--fail-defined'])).code).toBe(0);
    expect((await runConfcom(['rego', 'eval', 'true', '--fail', '--fail-defined'])).code).toBe(2);
  });

  it('--explain fails names the failing expression; --metrics reports opa timer names', async () => {
    const explain = await runConfcom(['rego', 'eval', ...d(), '-I', 'data.ex.allow', '--explain', 'fails', '-f', 'pretty'], { input: '{"user": "bob"}' });
    expect(explain.stdout).toMatch(/ex\.rego:3 .*Fail input\.user == "alice"/);
    expect(explain.stdout).not.toContain('__confcom');
    expect(explain.stdout.trimEnd().split('\n').at(-1)).toBe('undefined');
    const full = await runConfcom(['rego', 'eval', ...d(), 'data.ex.names', '--explain', 'full']);
    const out = JSON.parse(full.stdout) as { explanation: { op: string }[] };
    expect(out.explanation.some((e) => e.op === 'Enter')).toBe(true);
    const metrics = await runConfcom(['rego', 'eval', ...d(), 'data.ex.names', '--metrics']);
    const m = (JSON.parse(metrics.stdout) as { metrics: Record<string, number> }).metrics;
    for (const name of ['timer_rego_load_files_ns', 'timer_rego_module_compile_ns', 'timer_rego_query_parse_ns', 'timer_rego_query_eval_ns']) expect(m[name]).toBeGreaterThan(0);
  });

  it('a false value is a defined result, as opa eval captures it; iteration and several expressions add a truth check', async () => {
    const f = join(dir, 'deny.rego');
    writeFileSync(f, 'package example\n\ndefault allow := false\n\nflags := [true, false]\n');
    const json = await runConfcom(['rego', 'eval', '-d', f, 'data.example.allow']);
    expect(JSON.parse(json.stdout)).toEqual({ result: [{ expressions: [{ value: false, text: 'data.example.allow', location: { row: 1, col: 1 } }] }] });
    expect((await runConfcom(['rego', 'eval', '-d', f, 'data.example.allow', '-f', 'pretty'])).stdout).toBe('false\n');
    expect(JSON.parse((await runConfcom(['rego', 'eval', '-d', f, 'data.example.allow', '-f', 'values'])).stdout)).toEqual([false]);
    expect((await runConfcom(['rego', 'eval', '-d', f, 'data.example.allow', '--fail'])).code).toBe(0);
    expect((await runConfcom(['rego', 'eval', '-d', f, 'data.example.allow', '--fail-defined'])).code).toBe(1);
    // A comparison is captured too: `1 == 2` is equal(1, 2, x).
    expect((await runConfcom(['rego', 'eval', '1 == 2', '-f', 'pretty'])).stdout).toBe('false\n');
    // Iteration: the false element drops out.
    const iter = await runConfcom(['rego', 'eval', '-d', f, 'data.example.flags[i]', '-f', 'bindings']);
    expect(iter.stdout.trim().split(/\n(?=\{)/).map((t) => JSON.parse(t))).toEqual([{ i: 0 }]);
    // Several expressions: a false one makes the query undefined.
    expect((await runConfcom(['rego', 'eval', '-d', f, 'x := 1; data.example.allow', '-f', 'pretty'])).stdout).toBe('undefined\n');
  });

  it('several expressions: each one\'s value and text, as opa captures them (x + 1 is 2, an assignment is true)', async () => {
    const r = await runConfcom(['rego', 'eval', 'x := 1; x + 1']);
    expect(JSON.parse(r.stdout)).toEqual({
      result: [{ bindings: { x: 1 }, expressions: [{ value: true, text: 'x := 1', location: { row: 1, col: 1 } }, { value: 2, text: 'x + 1', location: { row: 1, col: 9 } }] }],
    });
    const table = await runConfcom(['rego', 'eval', 'x := [1, 2][_]; x + 1', '-f', 'pretty']);
    expect(table.stdout.split('\n').slice(1, 5)).toEqual(['| x | x + 1 |', '+---+-------+', '| 1 | 2     |', '| 2 | 3     |']);
  });

  it('conflicting data from two files is exit 2 naming the file', async () => {
    const other = join(dir, 'conflict');
    mkdirSync(join(other, 'a'), { recursive: true });
    writeFileSync(join(other, 'data.json'), '{"a": {"k": 1}}');
    writeFileSync(join(other, 'a', 'data.json'), '{"k": 2}');
    const r = await runConfcom(['rego', 'eval', '-d', other, 'data']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error\[data_merge_conflict\]: .*data\.json: key "k" conflicts/);
  });
});
