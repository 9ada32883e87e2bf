/** Property tests: the parser and evaluator never crash or hang on arbitrary input. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RegoEngine, RegoError } from '../../src/rego/index.js';
import { parseModule } from '../../src/rego/parser.js';
import { loadKataCases } from '../helpers/kata.js';

const REGO_BITS = ['package p', 'import rego.v1', 'x := 1', 'p if {', '}', '[', ']', '{', '(', ')', 'some', 'every', 'in', 'not', 'with', 'as', ':=', '=', '==', '"s"', '`raw`', '$"t{x}"', '1.5e3', 'input.a', 'data.b[_]', '|', '&', ',', ';', '\n', ' ', 'contains', 'else', 'default', '#c'];

describe('Rego parser on random text', () => {
  it('returns a module or a parse error with a location, never anything else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.array(fc.constantFrom(...REGO_BITS), { maxLength: 60 }).map((a) => a.join(' '))), (text) => {
        try {
          const mod = parseModule(text, 'random.rego', { syntax: 'v1' });
          expect(mod.file).toBe('random.rego');
        } catch (error) {
          expect(error).toBeInstanceOf(RegoError);
          const e = error as RegoError;
          expect(['rego_parse_error', 'rego_limit_error']).toContain(e.code);
          expect(e.location?.file).toBe('random.rego');
          expect(e.location?.line).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('refuses nesting deeper than the limit with a typed error', () => {
    const deep = 'package p\nx := ' + '['.repeat(2000) + ']'.repeat(2000);
    expect(() => parseModule(deep, 'deep.rego', { maxNestingDepth: 100 })).toThrow(expect.objectContaining({ code: 'rego_parse_error' }));
  });

  it('stops a runaway evaluation at the step limit', () => {
    const engine = new RegoEngine({ limits: { maxSteps: 10_000 } });
    engine.addModule('package p\nimport rego.v1\nn := count([x | some x in numbers.range(1, 1000000)])\n', 'loop.rego');
    expect(() => engine.evalRule('data.p.n')).toThrow(expect.objectContaining({ code: 'rego_limit_error' }));
  });
});

const cases = loadKataCases();
describe.skipIf(!cases)('Kata policies on random JSON input', () => {
  it('decide or fail with a typed error, never crash', () => {
    for (const c of cases ?? []) {
      const engine = new RegoEngine();
      engine.addModule(c.policy, 'policy.rego', { syntax: 'v0' });
      engine.setData({ pstate: {} });
      const kinds = [...new Set(c.requests.map((r) => r.kind))];
      fc.assert(
        fc.property(fc.constantFrom(...kinds), fc.jsonValue({ maxDepth: 4 }), (kind, input) => {
          try {
            engine.evalRule(`data.agent_policy.${kind}`, { input });
          } catch (error) {
            expect(error).toBeInstanceOf(RegoError);
          }
        }),
        { numRuns: 150 },
      );
    }
  });
});
