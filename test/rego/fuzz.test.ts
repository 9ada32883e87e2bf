/**
 * Bounded fuzzing (fast-check) of the parser, the evaluator and every builtin with random arguments.
 * Each run must end in a value, "undefined", or a typed RegoError: never an untyped exception (a
 * TypeError or RangeError escaping would crash `policy replay` or be mistaken for "no result"), and
 * never run past the deadline. Iteration counts are fixed and small so the test stays fast.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseModule } from '../../src/rego/parser.js';
import { RegoEngine, RegoError, fromJson, RSet, BigNum, type Value } from '../../src/rego/index.js';
import { BUILTINS } from '../../src/rego/builtins/index.js';
import type { BuiltinContext } from '../../src/rego/builtins/registry.js';

const DEADLINE_MS = 500;
/** How far past its deadline one call may end (scheduling on a shared machine). */
const SLACK_MS = 1500;

const TOKENS = [
  'package', 'p', 'import', 'rego.v1', 'if', 'else', 'not', 'some', 'every', 'in', 'contains', 'with', 'as', 'default',
  ':=', '=', '==', '!=', '<', '>', '+', '-', '*', '/', '%', '|', '&', '(', ')', '[', ']', '{', '}', ',', ';', ':', '.',
  '\n', 'x', 'y', 'input', 'data', 'true', 'false', 'null', '0', '1', '1e400', '-1', '"s"', '`raw`', 'count', 'sum',
  'numbers.range', 'sprintf', '"%d"', 'x := 1', 'p if {', '}', '[y | y := 1]', '{k: v | some k, v in input}',
];

function expectTyped(error: unknown, what: string): void {
  if (!(error instanceof RegoError)) throw new Error(`${what}: untyped ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
}

describe('fuzz: parser', () => {
  it('token soup parses or fails with a typed error', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }), fc.boolean(), (tokens, withPackage) => {
        const source = (withPackage ? 'package p\n' : '') + tokens.join(' ');
        try {
          parseModule(source, 'fuzz.rego');
        } catch (error) {
          expectTyped(error, JSON.stringify(source));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('deep random nesting fails with rego_parse_error, never a stack overflow', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('[', '(', '{', 'not ', '-', '[y | y := ', 'abs('), { minLength: 600, maxLength: 3000 }), (opens) => {
        try {
          parseModule(`package p\nx if { ${opens.join('')}1 }`, 'deep.rego');
        } catch (error) {
          expectTyped(error, 'deep nesting');
        }
      }),
      { numRuns: 40 },
    );
  });
});

/** Argument values: JSON, sets, big numbers, and strings that are format strings, patterns, units. */
const nasty = fc.constantFrom<Value>(
  '', '%v', '%0999999999d', '%.999f', '(a*)*b', '[', '*', '**/*', '1e99999', '1e-99999', '10Gi', '-1', '{a,b}', '\\', '\u0000', '😀',
  '2006-01-02T15:04:05Z', 'eyJhbGciOiJub25lIn0.e30.', '10.0.0.0/8', '::1/64', '1.2.3', new BigNum('1e400'), new BigNum('123456789012345678901234567890', 123456789012345678901234567890n),
  1e308, -0, 0.5, Number.MAX_SAFE_INTEGER, 1e9, new RSet([1, 'a']), new RSet(), [], null,
);
const value: fc.Arbitrary<Value> = fc.oneof({ weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((j) => fromJson(j)) }, { weight: 2, arbitrary: nasty });

describe('fuzz: every builtin with random arguments', () => {
  const names = [...BUILTINS.keys()].sort();

  it('returns, is undefined, or throws a typed RegoError, within the deadline', () => {
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.array(value, { minLength: 4, maxLength: 4 }), (name, pool) => {
        const spec = BUILTINS.get(name)!;
        const ctx: BuiltinContext = { strict: true, nowNs: 0n, print: () => undefined, cache: new Map(), deadline: Date.now() + DEADLINE_MS };
        const started = Date.now();
        try {
          spec.fn(pool.slice(0, spec.arity), ctx);
        } catch (error) {
          expectTyped(error, `${name}(${pool.slice(0, spec.arity).map(String).join(', ')})`);
        }
        expect(Date.now() - started, name).toBeLessThan(DEADLINE_MS + SLACK_MS);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 4000) },
    );
  }, 120_000);
});

describe('fuzz: evaluator', () => {
  const exprs = ['input.a + input.b', 'input.a * input.b', 'count(input.a)', 'numbers.range(0, input.a)', 'sprintf(input.a, [input.b])', 'input.a[input.b]', '{x | some x in input.a}', 'object.get(input.a, input.b, 0)', 'json.patch(input.a, input.b)', 'concat(",", input.a)', 'units.parse(input.a)', 'regex.match(input.a, input.b)'];
  it('policies over random inputs decide or fail typed, within the timeout', () => {
    const engines = exprs.map((e) => {
      const engine = new RegoEngine({ limits: { timeoutMs: DEADLINE_MS } });
      engine.addModule(`package p\nimport rego.v1\nx := ${e}\nallow if not x\n`, 'fuzz.rego');
      return engine;
    });
    const input = fc.record({ a: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom('%0999999d', 1e9, '1e99999', '(a*)*')), b: fc.jsonValue({ maxDepth: 3 }) });
    fc.assert(
      fc.property(fc.nat(engines.length - 1), input, fc.constantFrom('data.p.x', 'data.p.allow'), (i, inp, ref) => {
        const started = Date.now();
        try {
          engines[i].evalRule(ref, { input: inp });
        } catch (error) {
          expectTyped(error, `${exprs[i]} on ${JSON.stringify(inp).slice(0, 200)}`);
        }
        expect(Date.now() - started).toBeLessThan(DEADLINE_MS + SLACK_MS);
      }),
      { numRuns: 1500 },
    );
  }, 120_000);
});
