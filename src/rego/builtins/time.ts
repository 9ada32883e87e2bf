/**
 * Rego builtins: time. Timestamps are nanoseconds since the epoch (bigint-exact); an operand may be
 * `[ns, "Area/City"]` to read the wall clock in an IANA time zone (Intl). RFC 3339 parsing keeps
 * nanoseconds. time.now_ns is fixed for one evaluation (the engine's clock).
 */
import { BuiltinError } from '../errors.js';
import { isNumber, numFromBigInt, toBigInt, toDouble, type Value } from '../value.js';
import { expectString, operandTypeError, type BuiltinTable } from './registry.js';
import { diffClocks, formatTime, parseTime, wallClock } from './go-time-layout.js';

const NS_PER_MS = 1_000_000n;
/** Go's time range for UnixNano: beyond it OPA reports "timestamp too big". */
const MAX_NS = 9223372036854775807n;
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function nsOperand(name: string, v: Value): { ns: bigint; zone?: string } {
  let ns: Value = v;
  let zone: string | undefined;
  if (Array.isArray(v)) {
    if (v.length !== 2 || typeof v[1] !== 'string') throw operandTypeError(name, 1, ['number', 'array[number, string]'], v);
    ns = v[0];
    zone = v[1] === '' || v[1] === 'UTC' ? undefined : v[1] === 'Local' ? undefined : v[1];
  }
  if (!isNumber(ns)) throw operandTypeError(name, 1, ['number', 'array[number, string]'], v);
  const exact = toBigInt(ns) ?? BigInt(Math.trunc(toDouble(ns)));
  if (exact > MAX_NS || exact < -MAX_NS - 1n) throw new BuiltinError('timestamp too big');
  return { ns: exact, zone };
}

/** Timestamps must fit Go's int64 nanoseconds. */
function inRange(ns: bigint): bigint {
  if (ns > MAX_NS || ns < -MAX_NS - 1n) throw new BuiltinError('time outside of valid range');
  return ns;
}

/** Wall-clock fields of a timestamp in a zone (UTC when none). */
function fields(name: string, ns: bigint, zone?: string): { year: number; month: number; day: number; hour: number; minute: number; second: number; weekday: number } {
  const ms = Number(ns / NS_PER_MS - (ns < 0n && ns % NS_PER_MS !== 0n ? 1n : 0n));
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) throw new BuiltinError('timestamp too big');
  if (!zone) {
    return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), hour: date.getUTCHours(), minute: date.getUTCMinutes(), second: date.getUTCSeconds(), weekday: date.getUTCDay() };
  }
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'long' }).formatToParts(date);
  } catch {
    throw new BuiltinError(`${name}: unknown time zone ${zone}`);
  }
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '0';
  return { year: Number(get('year')), month: Number(get('month')), day: Number(get('day')), hour: Number(get('hour')) % 24, minute: Number(get('minute')), second: Number(get('second')), weekday: WEEKDAYS.indexOf(get('weekday')) };
}

/** RFC 3339 with optional fractional seconds (up to nanoseconds) and Z or ±hh:mm. */
function parseRfc3339(name: string, s: string): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) throw new BuiltinError(`${name}: parsing time ${JSON.stringify(s)} as "2006-01-02T15:04:05Z07:00": cannot parse`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  let ns = BigInt(ms) * NS_PER_MS + BigInt((m[7] ?? '').padEnd(9, '0') || '0');
  if (m[8] !== 'Z' && m[8] !== 'z') {
    const sign = m[8][0] === '-' ? -1n : 1n;
    const offset = (BigInt(m[8].slice(1, 3)) * 60n + BigInt(m[8].slice(4, 6))) * 60_000_000_000n;
    ns -= sign * offset;
  }
  return ns;
}

const UNITS: Record<string, bigint> = { ns: 1n, us: 1000n, 'µs': 1000n, 'μs': 1000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };

/** Go's time.ParseDuration: "1h30m", "-1.5s", "300ms". */
function parseDuration(s: string): bigint {
  const fail = (): never => {
    throw new BuiltinError(`time: invalid duration ${JSON.stringify(s)}`);
  };
  let rest = s;
  let sign = 1n;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1n;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') fail();
  let total = 0n;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) fail();
    const unit = UNITS[m![3]];
    const frac = m![2] ?? '';
    total += BigInt(m![1] || '0') * unit + (frac ? (BigInt(frac) * unit) / 10n ** BigInt(frac.length) : 0n);
    rest = rest.slice(m![0].length);
  }
  return sign * total;
}

/** time.format's operand: ns, [ns, zone] or [ns, zone, layout]. */
function formatOperand(v: Value): { ns: bigint; zone?: string; layout: string } {
  if (Array.isArray(v) && v.length === 3) {
    if (typeof v[2] !== 'string') throw operandTypeError('time.format', 1, ['number', 'array[number, string]', 'array[number, string, string]'], v);
    return { ...nsOperand('time.format', [v[0], v[1]]), layout: v[2] };
  }
  return { ...nsOperand('time.format', v), layout: 'RFC3339Nano' };
}

export const builtins: BuiltinTable = {
  'time.format': {
    arity: 1,
    fn: ([v]) => {
      const { ns, zone, layout } = formatOperand(v);
      return formatTime(wallClock(ns, zone), layout);
    },
  },
  'time.parse_ns': {
    arity: 2,
    fn: (a) => numFromBigInt(inRange(parseTime(expectString('time.parse_ns', a, 0), expectString('time.parse_ns', a, 1)))),
  },
  'time.diff': {
    arity: 2,
    fn: ([x, y]) => {
      const first = nsOperand('time.diff', x);
      const second = nsOperand('time.diff', y);
      // Both wall clocks are read in the first operand's zone; the earlier one comes first.
      const [early, late] = first.ns <= second.ns ? [first.ns, second.ns] : [second.ns, first.ns];
      return diffClocks(wallClock(early, first.zone), wallClock(late, first.zone));
    },
  },
  'time.now_ns': { arity: 0, nondeterministic: true, fn: (_args, ctx) => numFromBigInt(ctx.nowNs) },
  'time.parse_rfc3339_ns': { arity: 1, fn: (a) => numFromBigInt(inRange(parseRfc3339('time.parse_rfc3339_ns', expectString('time.parse_rfc3339_ns', a, 0)))) },
  'time.add_date': {
    arity: 4,
    fn: ([t, y, m, d]) => {
      const { ns } = nsOperand('time.add_date', t);
      const years = y;
      for (const [i, v] of [years, m, d].entries()) if (!isNumber(v)) throw operandTypeError('time.add_date', i + 2, ['number'], v);
      const floorMs = ns / NS_PER_MS - (ns < 0n && ns % NS_PER_MS !== 0n ? 1n : 0n);
      const subMs = ns - floorMs * NS_PER_MS;
      const date = new Date(Number(floorMs));
      // Go's AddDate: year, month and day added, then normalised (Date.UTC normalises the same way).
      const ms = Date.UTC(date.getUTCFullYear() + toDouble(y as number), date.getUTCMonth() + toDouble(m as number), date.getUTCDate() + toDouble(d as number), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), date.getUTCMilliseconds());
      if (!Number.isFinite(ms)) throw new BuiltinError('time outside of valid range');
      return numFromBigInt(inRange(BigInt(ms) * NS_PER_MS + subMs));
    },
  },
  'time.parse_duration_ns': { arity: 1, fn: (a) => numFromBigInt(parseDuration(expectString('time.parse_duration_ns', a, 0))) },
  'time.date': {
    arity: 1,
    fn: ([v]) => {
      const { ns, zone } = nsOperand('time.date', v);
      const f = fields('time.date', ns, zone);
      return [f.year, f.month, f.day];
    },
  },
  'time.clock': {
    arity: 1,
    fn: ([v]) => {
      const { ns, zone } = nsOperand('time.clock', v);
      const f = fields('time.clock', ns, zone);
      return [f.hour, f.minute, f.second];
    },
  },
  'time.weekday': {
    arity: 1,
    fn: ([v]) => {
      const { ns, zone } = nsOperand('time.weekday', v);
      return WEEKDAYS[fields('time.weekday', ns, zone).weekday];
    },
  },
};
