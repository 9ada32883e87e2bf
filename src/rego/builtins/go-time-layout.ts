/**
 * Go's time layouts ("Mon Jan 2 15:04:05 MST 2006", named ones such as RFC3339), for time.format and
 * time.parse_ns. A layout is read as Go's `nextStdChunk` reads it: the reference time's fields
 * (2006, 01, Jan, 15, 04, 05, .000, -07:00, Z07:00, MST, PM, ...) stand for the value's fields; any
 * other text is literal. Wall clocks in IANA zones come from Intl.
 */
import { BuiltinError } from '../errors.js';

export const NAMED_LAYOUTS: Record<string, string> = {
  ANSIC: 'Mon Jan _2 15:04:05 2006',
  UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
  RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
  RFC822: '02 Jan 06 15:04 MST',
  RFC822Z: '02 Jan 06 15:04 -0700',
  RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
  Kitchen: '3:04PM',
  Stamp: 'Jan _2 15:04:05',
  StampMilli: 'Jan _2 15:04:05.000',
  StampMicro: 'Jan _2 15:04:05.000000',
  StampNano: 'Jan _2 15:04:05.000000000',
  DateTime: '2006-01-02 15:04:05',
  DateOnly: '2006-01-02',
  TimeOnly: '15:04:05',
};

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Layout elements, longest first where one is a prefix of another (as Go matches them). */
const ELEMENTS = [
  'January', 'Jan', 'Monday', 'Mon', 'MST', '2006', '002', '__2', '_2', '01', '02', '03', '04', '05', '06', '15',
  '-07:00:00', '-070000', '-07:00', '-0700', '-07', 'Z07:00:00', 'Z070000', 'Z07:00', 'Z0700', 'Z07', 'PM', 'pm', '1', '2', '3', '4', '5',
];

type Chunk = { lit: string } | { el: string } | { frac: '0' | '9'; digits: number };

function chunks(layout: string): Chunk[] {
  const out: Chunk[] = [];
  let lit = '';
  for (let i = 0; i < layout.length; ) {
    // Fractional seconds: "." or "," then a run of 0s or 9s, when not followed by another digit.
    const frac = /^[.,](0+|9+)(?![0-9])/.exec(layout.slice(i));
    if (frac && i > 0 && /05$/.test(layout.slice(0, i))) {
      if (lit) {
        out.push({ lit });
        lit = '';
      }
      out.push({ frac: frac[1][0] as '0' | '9', digits: frac[1].length });
      i += frac[0].length;
      continue;
    }
    const el = ELEMENTS.find((e) => layout.startsWith(e, i) && !(e === 'Jan' && /^January/.test(layout.slice(i))) && !(e === 'Mon' && /^Monday/.test(layout.slice(i))));
    // "2006" before "2", and Go treats a lone digit only as an element where nothing longer fits.
    if (el) {
      if (lit) {
        out.push({ lit });
        lit = '';
      }
      out.push({ el });
      i += el.length;
    } else {
      lit += layout[i];
      i++;
    }
  }
  if (lit) out.push({ lit });
  return out;
}

export interface WallClock {
  year: number;
  month: number; // 1..12
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  weekday: number; // 0 = Sunday
  yearDay: number;
  /** Offset from UTC in seconds, and the zone's abbreviation. */
  offset: number;
  zoneName: string;
}

const floorDiv = (a: bigint, b: bigint) => (a >= 0n ? a / b : -((-a + b - 1n) / b));

/** The wall clock of an instant in an IANA zone (UTC when none). */
export function wallClock(ns: bigint, zone?: string): WallClock {
  const sec = floorDiv(ns, 1_000_000_000n);
  const nanos = Number(ns - sec * 1_000_000_000n);
  let offset = 0;
  let zoneName = 'UTC';
  if (zone) {
    let parts: Intl.DateTimeFormatPart[];
    try {
      parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', timeZoneName: 'short' }).formatToParts(new Date(Number(sec) * 1000));
    } catch {
      throw new BuiltinError(`unknown time zone ${zone}`);
    }
    const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '0';
    const wall = Date.UTC(Number(get('year')), Number(get('month')) - 1, Number(get('day')), Number(get('hour')) % 24, Number(get('minute')), Number(get('second')));
    offset = wall / 1000 - Number(sec);
    const name = get('timeZoneName');
    zoneName = /^(GMT|UTC)[+-]/.test(name) ? formatOffset(offset, '-0700', false) : name === 'GMT' ? 'UTC' : name;
  }
  const d = new Date((Number(sec) + offset) * 1000);
  if (Number.isNaN(d.getTime())) throw new BuiltinError('timestamp too big');
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  return {
    year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(),
    nanos, weekday: d.getUTCDay(), yearDay: Math.floor((d.getTime() - start) / 86_400_000) + 1, offset, zoneName,
  };
}

const pad = (n: number, width: number, ch = '0') => String(n).padStart(width, ch);

function formatOffset(offset: number, el: string, zulu: boolean): string {
  if (zulu && offset === 0) return 'Z';
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const hh = pad(Math.floor(abs / 3600), 2);
  const mm = pad(Math.floor(abs / 60) % 60, 2);
  const ss = pad(abs % 60, 2);
  const shape = el.replace(/^Z/, '-');
  switch (shape) {
    case '-07': return sign + hh;
    case '-0700': return sign + hh + mm;
    case '-07:00': return `${sign}${hh}:${mm}`;
    case '-070000': return sign + hh + mm + ss;
    default: return `${sign}${hh}:${mm}:${ss}`;
  }
}

export function formatTime(w: WallClock, layout: string): string {
  let out = '';
  for (const c of chunks(NAMED_LAYOUTS[layout] ?? layout)) {
    if ('lit' in c) out += c.lit;
    else if ('frac' in c) {
      const digits = pad(w.nanos, 9).slice(0, c.digits);
      if (c.frac === '0') out += '.' + digits;
      else {
        const trimmed = digits.replace(/0+$/, '');
        if (trimmed) out += '.' + trimmed;
      }
    } else {
      const h12 = w.hour % 12 === 0 ? 12 : w.hour % 12;
      switch (c.el) {
        case 'January': out += MONTHS[w.month - 1]; break;
        case 'Jan': out += MONTHS[w.month - 1].slice(0, 3); break;
        case 'Monday': out += DAYS[w.weekday]; break;
        case 'Mon': out += DAYS[w.weekday].slice(0, 3); break;
        case 'MST': out += w.zoneName; break;
        case '2006': out += pad(w.year, 4); break;
        case '06': out += pad(w.year % 100, 2); break;
        case '01': out += pad(w.month, 2); break;
        case '1': out += String(w.month); break;
        case '02': out += pad(w.day, 2); break;
        case '_2': out += pad(w.day, 2, ' '); break;
        case '2': out += String(w.day); break;
        case '002': out += pad(w.yearDay, 3); break;
        case '__2': out += pad(w.yearDay, 3, ' '); break;
        case '15': out += pad(w.hour, 2); break;
        case '03': out += pad(h12, 2); break;
        case '3': out += String(h12); break;
        case '04': out += pad(w.minute, 2); break;
        case '4': out += String(w.minute); break;
        case '05': out += pad(w.second, 2); break;
        case '5': out += String(w.second); break;
        case 'PM': out += w.hour >= 12 ? 'PM' : 'AM'; break;
        case 'pm': out += w.hour >= 12 ? 'pm' : 'am'; break;
        default: out += formatOffset(w.offset, c.el, c.el.startsWith('Z'));
      }
    }
  }
  return out;
}

/** Parses `value` by `layout`; nanoseconds since the epoch. A value without a zone is UTC. */
export function parseTime(layout: string, value: string): bigint {
  const goLayout = NAMED_LAYOUTS[layout] ?? layout;
  const fail = (what: string): never => {
    throw new BuiltinError(`parsing time ${JSON.stringify(value)} as ${JSON.stringify(goLayout)}: cannot parse ${JSON.stringify(what)}`);
  };
  let year = 1, month = 1, day = 1, hour = 0, minute = 0, second = 0, nanos = 0n, offset = 0, pm: boolean | undefined;
  let rest = value;
  const take = (re: RegExp): string => {
    const m = re.exec(rest);
    if (!m) fail(rest);
    rest = rest.slice(m![0].length);
    return m![0];
  };
  const list = chunks(goLayout);
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if ('lit' in c) {
      if (!rest.startsWith(c.lit)) fail(rest);
      rest = rest.slice(c.lit.length);
      continue;
    }
    if ('frac' in c) {
      const m = /^[.,](\d+)/.exec(rest);
      if (m) {
        nanos = BigInt(m[1].slice(0, 9).padEnd(9, '0'));
        rest = rest.slice(m[0].length);
      } else if (c.frac === '0') fail(rest);
      continue;
    }
    const month3 = () => {
      const idx = MONTHS.findIndex((mo) => rest.slice(0, 3).toLowerCase() === mo.slice(0, 3).toLowerCase());
      if (idx < 0) fail(rest);
      rest = rest.slice(3);
      return idx + 1;
    };
    switch (c.el) {
      case 'January': {
        const idx = MONTHS.findIndex((mo) => rest.toLowerCase().startsWith(mo.toLowerCase()));
        if (idx < 0) fail(rest);
        rest = rest.slice(MONTHS[idx].length);
        month = idx + 1;
        break;
      }
      case 'Jan': month = month3(); break;
      case 'Monday': take(/^[A-Za-z]+day/); break;
      case 'Mon': take(/^[A-Za-z]{3}/); break;
      case 'MST': take(/^[A-Z]{3,5}|^[+-]\d{2,4}/); break;
      case '2006': year = Number(take(/^\d{4}/)); break;
      case '06': { const y = Number(take(/^\d{2}/)); year = y >= 69 ? 1900 + y : 2000 + y; break; }
      case '01': month = Number(take(/^\d{2}/)); break;
      case '1': month = Number(take(/^\d{1,2}/)); break;
      case '02': day = Number(take(/^\d{2}/)); break;
      case '_2': day = Number(take(/^ ?\d{1,2}/).trim()); break;
      case '2': day = Number(take(/^\d{1,2}/)); break;
      case '002': case '__2': take(/^ *\d{1,3}/); break;
      case '15': hour = Number(take(/^\d{1,2}/)); break;
      case '03': hour = Number(take(/^\d{2}/)); break;
      case '3': hour = Number(take(/^\d{1,2}/)); break;
      case '04': minute = Number(take(/^\d{2}/)); break;
      case '4': minute = Number(take(/^\d{1,2}/)); break;
      case '05': case '5': {
        second = Number(take(c.el === '05' ? /^\d{2}/ : /^\d{1,2}/));
        // Go accepts fractional seconds after the seconds even when the layout has none.
        const next = list[i + 1];
        if (!(next && 'frac' in next)) {
          const m = /^[.,](\d+)/.exec(rest);
          if (m && !(next && 'lit' in next && next.lit.startsWith(m[0][0]))) {
            nanos = BigInt(m[1].slice(0, 9).padEnd(9, '0'));
            rest = rest.slice(m[0].length);
          }
        }
        break;
      }
      case 'PM': case 'pm': pm = take(/^[AaPp][Mm]/).toLowerCase() === 'pm'; break;
      default: {
        if (c.el.startsWith('Z') && (rest[0] === 'Z' || rest[0] === 'z')) {
          rest = rest.slice(1);
          break;
        }
        const m = /^([+-])(\d{2}):?(\d{2})?:?(\d{2})?/.exec(rest);
        if (!m) fail(rest);
        offset = (m![1] === '-' ? -1 : 1) * (Number(m![2]) * 3600 + Number(m![3] ?? 0) * 60 + Number(m![4] ?? 0));
        rest = rest.slice(m![0].length);
      }
    }
  }
  if (rest !== '') throw new BuiltinError(`parsing time ${JSON.stringify(value)}: extra text: ${JSON.stringify(rest)}`);
  if (pm !== undefined) hour = (hour % 12) + (pm ? 12 : 0);
  if (month < 1 || month > 12) throw new BuiltinError(`parsing time ${JSON.stringify(value)}: month out of range`);
  if (day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate() || hour > 23 || minute > 59 || second > 59) {
    throw new BuiltinError(`parsing time ${JSON.stringify(value)}: day out of range`);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return (BigInt(date.getTime()) / 1000n - BigInt(offset)) * 1_000_000_000n + nanos;
}

/** OPA's time.diff: [years, months, days, hours, minutes, seconds] between two wall clocks of one zone. */
export function diffClocks(a: WallClock, b: WallClock): number[] {
  let year = b.year - a.year;
  let month = b.month - a.month;
  let day = b.day - a.day;
  let hour = b.hour - a.hour;
  let minute = b.minute - a.minute;
  let second = b.second - a.second;
  if (second < 0) {
    second += 60;
    minute--;
  }
  if (minute < 0) {
    minute += 60;
    hour--;
  }
  if (hour < 0) {
    hour += 24;
    day--;
  }
  if (day < 0) {
    // Days of a.month: day 32 of it normalises into the next month.
    day += 32 - new Date(Date.UTC(a.year, a.month - 1, 32)).getUTCDate();
    month--;
  }
  if (month < 0) {
    month += 12;
    year--;
  }
  return [year, month, day, hour, minute, second];
}
