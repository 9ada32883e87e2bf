/** Faults from issue 13, each reproduced: builtins beyond their budgets, parser recursion, out-of-range numbers. */
import { describe, expect, it } from 'vitest';
import { RegoEngine, serializeJson } from '../../src/rego/index.js';
import { parseModule, parseQuery } from '../../src/rego/parser.js';

function engineWith(rego: string, timeoutMs = 2000): RegoEngine {
  const engine = new RegoEngine({ limits: { timeoutMs } });
  engine.addModule(rego, 'fault.rego');
  return engine;
}

describe('builtins are bounded (typed rego_limit_error, fast)', () => {
  const cases: [string, string, unknown?][] = [
    ['numbers.range to 1e9', 'x := count(numbers.range(1, input.n))', { n: 1e9 }],
    ['numbers.range_step', 'x := count(numbers.range_step(0, input.n, 2))', { n: 4e9 }],
    ['units.parse_bytes with a huge exponent', 'x := units.parse_bytes("1e99999999")'],
    ['units.parse with a huge exponent', 'x := units.parse("1e-99999999")'],
    ['sprintf width', 'x := sprintf("%0100000000d", [1])'],
    ['sprintf precision', 'x := sprintf("%.100000000f", [1])'],
    ['bits.lsh by a huge amount', 'x := bits.lsh(1, 100000000000)'],
    ['replace that multiplies the string', 'x := replace(concat("", [s | some _ in numbers.range(1, 5000); s := "aaaa"]), "a", concat("", [s | some _ in numbers.range(1, 5000); s := "bbbb"]))'],
    ['regex.replace that multiplies the string', 'x := regex.replace(concat("", [s | some _ in numbers.range(1, 5000); s := "aaaa"]), "a", concat("", [s | some _ in numbers.range(1, 5000); s := "bbbb"]))'],
    ['json.marshal_with_options with a huge indent', 'x := json.marshal_with_options([[[[[[[[1]]]]]]]], {"indent": concat("", [s | some _ in numbers.range(1, 1000000); s := "    "])})'],
  ];
  for (const [name, rule, input] of cases) {
    it(name, () => {
      const started = Date.now();
      const engine = engineWith(`package p\n${rule}\n`);
      // Not undefined (which `not` would turn into true): an error, so the decision is a denial.
      expect(() => engine.evalRule('data.p.x', input === undefined ? {} : { input })).toThrow(expect.objectContaining({ code: 'rego_limit_error' }));
      // A hang guard, not a speed figure: before the budgets these ran for 11–62 s or crashed. Loose
      // enough that a loaded CI machine (the 1M-element comprehension above alone) never trips it.
      expect(Date.now() - started).toBeLessThan(5000);
    });
  }

  it('a limit error under `not` is still an error, never an allow', () => {
    const engine = engineWith('package p\nallow if not too_big\ntoo_big if count(numbers.range(1, input.n)) > 10\n');
    expect(engine.evalRule('data.p.allow', { input: { n: 5 } }).value).toBe(true);
    expect(() => engine.evalRule('data.p.allow', { input: { n: 1e9 } })).toThrow(expect.objectContaining({ code: 'rego_limit_error' }));
  });

  it('ranges within the budget still work', () => {
    expect(engineWith('package p\nx := count(numbers.range(1, 100000))\n').evalRule('data.p.x').value).toBe(100000);
    expect(engineWith('package p\nx := units.parse_bytes("1e3KiB")\n').evalRule('data.p.x').value).toBe(1024000);
    expect(engineWith('package p\nx := sprintf("%05d", [42])\n').evalRule('data.p.x').value).toBe('00042');
  });
});

describe('parser recursion has a depth limit with rego_parse_error', () => {
  const deep: [string, string][] = [
    ['50,000 chained not', `p if { ${'not '.repeat(50000)}true }`],
    ['deep arrays', `p := ${'['.repeat(50000)}${']'.repeat(50000)}`],
    ['deep parentheses', `p := ${'('.repeat(50000)}1${')'.repeat(50000)}`],
    ['deep objects', `p := ${'{"a": '.repeat(20000)}1${'}'.repeat(20000)}`],
    ['deep sets', `p := ${'{'.repeat(20000)}1${'}'.repeat(20000)}`],
    ['nested comprehensions', `p := ${'[y | y := '.repeat(5000)}1${']'.repeat(5000)}`],
    ['chained unary minus', `p := 1 - ${'-'.repeat(50000)}1`],
    ['deep call arguments', `p := ${'abs('.repeat(20000)}1${')'.repeat(20000)}`],
  ];
  for (const [name, rule] of deep) {
    it(name, () => {
      expect(() => parseModule(`package p\n${rule}\n`, 'deep.rego')).toThrow(expect.objectContaining({ code: 'rego_parse_error' }));
    });
  }
  it('in a query too', () => {
    expect(() => parseQuery(`${'not '.repeat(50000)}true`)).toThrow(expect.objectContaining({ code: 'rego_parse_error' }));
  });
  it('a long flat ref parses in linear time', () => {
    const started = Date.now();
    parseModule(`package p\nx := input${'.a'.repeat(50000)}\n`, 'long.rego');
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

/** "2000" -> "2e3", "1e+400" -> "1e400": one spelling to compare exact integers and big decimals. */
function scientific(text: string): string {
  const m = /^(-?\d*?)(0*)$/.exec(text);
  if (m && text !== '0') return m[2].length ? `${m[1]}e${m[2].length}` : m[1];
  return text.replace('e+', 'e');
}

describe('numbers out of double range stay numbers (OPA: big.Float), never Infinity', () => {
  const values: [string, string][] = [
    ['1e400 * 1', '1e400'],
    ['1e400 + 1', '1e400'],
    ['1e308 * 10', '1e309'],
    ['1e308 + 1e308', '2e308'],
    ['0 - 1e400', '-1e400'],
    ['1e300 / 1e-300', '1e600'],
    ['1e400 - 1e400', '0'],
  ];
  for (const [expr, text] of values) {
    it(expr, () => {
      const v = engineWith(`package p\nx := ${expr}\n`).evalRule('data.p.x').value;
      expect(v).toBeDefined();
      const json = serializeJson(v!);
      expect(json).not.toMatch(/Infinity|NaN/);
      expect(scientific(json)).toBe(text);
    });
  }
});
