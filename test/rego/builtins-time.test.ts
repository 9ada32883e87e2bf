/** Go time layouts: formatting, parsing and their round trip (the time.* builtins' cases are in cases/builtins/time.yaml). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTime, parseTime, wallClock } from '../../src/rego/builtins/go-time-layout.js';

describe('Go layouts', () => {
  const t = 1670006453141828752n; // 2022-12-02T18:40:53.141828752Z

  it('format named and custom layouts, fractional seconds, 12-hour clocks and zones', () => {
    expect(formatTime(wallClock(t), 'Kitchen')).toBe('6:40PM');
    expect(formatTime(wallClock(t), 'StampMilli')).toBe('Dec  2 18:40:53.141');
    expect(formatTime(wallClock(t), '2006-01-02 03:04:05.999 pm Monday')).toBe('2022-12-02 06:40:53.141 pm Friday');
    expect(formatTime(wallClock(t, 'America/New_York'), 'RFC3339')).toBe('2022-12-02T13:40:53-05:00');
    expect(formatTime(wallClock(t), 'RFC3339')).toBe('2022-12-02T18:40:53Z');
  });

  it('parse what they format, in every named layout with seconds and a numeric zone', () => {
    const layouts = ['RFC3339', 'RFC3339Nano', 'RFC1123Z', 'RubyDate', 'DateTime'];
    fc.assert(
      fc.property(fc.bigInt({ min: -2_000_000_000_000_000_000n, max: 4_000_000_000_000_000_000n }), fc.constantFrom(...layouts), (ns, layout) => {
        const text = formatTime(wallClock(ns), layout);
        const keepsNanos = layout === 'RFC3339Nano';
        const expected = keepsNanos ? ns : ns - (((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n);
        expect(parseTime(layout, text)).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('refuse text that does not fit the layout, naming both', () => {
    expect(() => parseTime('2006-01-02', '2022-13-01')).toThrow(/month out of range/);
    expect(() => parseTime('2006-01-02', '2022/01/01')).toThrow(/as "2006-01-02"/);
    expect(() => parseTime('2006-01-02', '2022-01-01 extra')).toThrow(/extra text/);
  });
});

