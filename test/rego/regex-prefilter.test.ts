/**
 * regex.match answers "no" without running the matcher when the text lacks the pattern's literal
 * prefix or one of the literals every match contains (builtins/regex.ts). That shortcut must never change an answer: checked here against re2js
 * itself, on the Kata policy's own patterns and on random patterns built from the pieces that could
 * fool the prefix reading (alternation, groups, classes, escapes, quantifiers, \Q...\E).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RE2JS } from 're2js';
import { lookupBuiltin } from '../../src/rego/builtins/index.js';
import type { BuiltinContext } from '../../src/rego/builtins/registry.js';
import { literalPrefix, requiredLiterals } from '../../src/rego/builtins/regex.js';

const ctx = { strict: true, nowNs: 0n, deadline: Number.POSITIVE_INFINITY, print: () => undefined, cache: new Map() } as unknown as BuiltinContext;
const regexMatch = (pattern: string, text: string): boolean | 'error' => {
  try {
    return lookupBuiltin('regex.match')?.fn([pattern, text], ctx) as boolean;
  } catch {
    return 'error';
  }
};
const re2 = (pattern: string, text: string): boolean | 'error' => {
  try {
    return RE2JS.compile(pattern).matcher(text).find();
  } catch {
    return 'error';
  }
};

describe('regex.match literal-prefix shortcut', () => {
  it('reads the prefix of the anchored patterns Kata policies use, and nothing where it would be wrong', () => {
    expect(literalPrefix('^HOSTNAME=[a-zA-Z0-9_\\.\\-]+$')).toBe('HOSTNAME=');
    expect(literalPrefix('^AZURE_AUTHORITY_HOST=https://login\\.microsoftonline\\.com/$')).toBe('AZURE_AUTHORITY_HOST=https://login.microsoftonline.com/');
    expect(literalPrefix('^/run/kata-containers/shared/containers/[a-z0-9]{64}-')).toBe('/run/kata-containers/shared/containers/');
    expect(literalPrefix('^ab*c')).toBe('a');
    expect(literalPrefix('^ab{2}')).toBe('a');
    // Found by the property below: a flag group is nothing, so `*` repeats the `b`.
    expect(literalPrefix('^ab(?i)*')).toBe('a');
    expect(literalPrefix('^ab|cd')).toBe('');
    expect(literalPrefix('^ab(c|d)')).toBe('ab');
    expect(literalPrefix('^ab[|(]|x')).toBe('');
    expect(literalPrefix('^ab\\Q(\\E|x')).toBe('');
    expect(literalPrefix('ab')).toBe('');
    expect(literalPrefix('^\\d1')).toBe('');
  });

  it('gives re2js answers on the Kata patterns, matching and not', () => {
    const cases: [string, string][] = [
      ['^HOSTNAME=[a-zA-Z0-9_\\.\\-]+$', 'HOSTNAME=busybox'],
      ['^HOSTNAME=[a-zA-Z0-9_\\.\\-]+$', 'PATH=/usr/bin'],
      ['^[A-Z0-9_\\.\\-]+_SERVICE_PORT=[0-9]{1,5}$', 'KUBERNETES_SERVICE_PORT=443'],
      ['^AZURE_CLIENT_ID=[A-Fa-f0-9-]*$', 'AZURE_CLIENT_ID='],
      ['^AZURE_CLIENT_ID=[A-Fa-f0-9-]*$', 'AZURE_CLIENT_I'],
      ['^ab|cd', 'xcd'],
      ['^ab(', 'xx'],
    ];
    for (const [p, s] of cases) expect(regexMatch(p, s), `${p} on ${s}`).toBe(re2(p, s));
    expect(regexMatch('^ab(', 'zz')).toBe('error');
  });

  it('never differs from re2js on random patterns and texts', () => {
    const pieces = ['a', 'b', 'ab', '=', '/', '.', '\\.', '\\-', '\\d', '\\b', '|', '(', ')', '(?:', '(?i)', '*', '+', '?', '{2}', '{1,2}', '{', '}', '[ab]', '[^a]', '[]a]', '[|]', '[(]', '\\Q', '\\E', '[[:alpha:]]', '$', '^', '\\\\', ']'];
    const pattern = fc.array(fc.constantFrom(...pieces), { maxLength: 8 }).map((a) => '^' + a.join(''));
    const text = fc.oneof(fc.stringMatching(/^[ab=/.|()A\-1\\]{0,8}$/), fc.constantFrom('', 'a', 'ab', 'aab', 'ab=', 'A', 'b|', '(a', '.'));
    fc.assert(
      fc.property(pattern, text, (p, s) => {
        expect(regexMatch(p, s)).toBe(re2(p, s));
      }),
      { numRuns: 6000 },
    );
  });
});

describe('regex.match required-literal shortcut', () => {
  it('reads the literals every match of the Kata service patterns contains, and none where unsure', () => {
    expect(requiredLiterals('^[A-Z0-9_\\.\\-]+_PORT_[0-9]{1,5}_TCP=tcp://[0-9]+$')).toEqual(['_TCP=tcp://', '_PORT_']);
    expect(requiredLiterals('ab*cd')).toEqual(['cd']);
    expect(requiredLiterals('abc?de')).toEqual(['ab', 'de']);
    expect(requiredLiterals('ab{0,2}cd')).toEqual(['cd']);
    expect(requiredLiterals('abc+de')).toEqual(['abc', 'de']);
    expect(requiredLiterals('x(ab)yz')).toEqual(['yz']);
    expect(requiredLiterals('ab|cd')).toEqual([]);
    expect(requiredLiterals('(?i)abcd')).toEqual([]);
    expect(requiredLiterals('ab{,2}cd')).toEqual([]);
    expect(requiredLiterals('\\x41bcd')).toEqual([]);
  });

  it('never differs from re2js on random patterns, anchored or not', () => {
    const pieces = ['a', 'b', 'ab', 'ba', '_', '=', '.', '\\.', '\\d', '\\b', '\\pL', '\\x61', '|', '(', ')', '(?:', '(?i)', '(?P<n>', '*', '+', '?', '*?', '+?', '{2}', '{0,2}', '{1,}', '{,2}', '{', '}', '[ab]', '[^a]', '[]a]', '[a-c]', '\\Q', '\\E', '$', '^', ']'];
    const pattern = fc.tuple(fc.boolean(), fc.array(fc.constantFrom(...pieces), { maxLength: 9 })).map(([anchored, a]) => (anchored ? '^' : '') + a.join(''));
    const text = fc.oneof(fc.stringMatching(/^[ab_=.A1]{0,10}$/), fc.constantFrom('', 'ab', 'abab', 'ba_', 'a=b', 'aab', 'bab'));
    fc.assert(
      fc.property(pattern, text, (p, s) => {
        expect(regexMatch(p, s)).toBe(re2(p, s));
      }),
      { numRuns: 8000 },
    );
  });
});
