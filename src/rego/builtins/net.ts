/**
 * Rego builtins: CIDR arithmetic on IPv4 and IPv6 with bigint addresses. net.lookup_ip_addr (DNS) is
 * deliberately absent: a policy decision must not reach the network.
 */
import { BuiltinError } from '../errors.js';
import { RObject, RSet, type Value } from '../value.js';
import { expectString, type BuiltinTable } from './registry.js';

interface Net {
  base: bigint;
  prefix: number;
  bits: 32 | 128;
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function parseV6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.split('::').length > 2) return undefined;
  let tail: number[] = [];
  let text = s;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = parseV4(v4[1]);
    if (n === undefined) return undefined;
    tail = [Number(n >> 16n), Number(n & 0xffffn)];
    text = s.slice(0, -v4[1].length).replace(/:$/, ':') + (s.endsWith('::' + v4[1]) ? '' : '');
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const [head, rest] = text.split('::');
  const group = (t: string) => (t === '' ? [] : t.split(':'));
  const h = group(head);
  const r = rest === undefined ? [] : group(rest);
  if ([...h, ...r].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const total = h.length + r.length + tail.length;
  if (rest === undefined ? total !== 8 : total > 7) return undefined;
  const groups = [...h.map((g) => parseInt(g, 16)), ...new Array(8 - total).fill(0), ...r.map((g) => parseInt(g, 16)), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

function parseIp(s: string): { addr: bigint; bits: 32 | 128 } | undefined {
  const v4 = parseV4(s);
  if (v4 !== undefined) return { addr: v4, bits: 32 };
  const v6 = parseV6(s);
  return v6 === undefined ? undefined : { addr: v6, bits: 128 };
}

function parseCidr(name: string, s: string, allowIp: boolean): Net {
  const slash = s.indexOf('/');
  if (slash < 0) {
    const ip = allowIp ? parseIp(s) : undefined;
    if (!ip) throw new BuiltinError(`${name}: invalid CIDR address: ${s}`);
    return { base: ip.addr, prefix: ip.bits, bits: ip.bits };
  }
  const ip = parseIp(s.slice(0, slash));
  const prefixText = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(prefixText) || Number(prefixText) > ip.bits) throw new BuiltinError(`${name}: invalid CIDR address: ${s}`);
  const prefix = Number(prefixText);
  return { base: ip.addr & mask(prefix, ip.bits), prefix, bits: ip.bits };
}

function mask(prefix: number, bits: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return all ^ ((1n << BigInt(bits - prefix)) - 1n);
}

function contains(outer: Net, inner: Net): boolean {
  return outer.bits === inner.bits && inner.prefix >= outer.prefix && (inner.base & mask(outer.prefix, outer.bits)) === outer.base;
}

function formatIp(addr: bigint, bits: number): string {
  if (bits === 32) return [24n, 16n, 8n, 0n].map((s) => String((addr >> s) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((addr >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // Go's shortest form: the longest run (>= 2) of zero groups becomes ::
  let best = [-1, 0];
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best[1]) best = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best[1] < 2) return groups.join(':');
  return groups.slice(0, best[0]).join(':') + '::' + groups.slice(best[0] + best[1]).join(':');
}

export const builtins: BuiltinTable = {
  'net.cidr_contains': {
    arity: 2,
    fn: (a) => contains(parseCidr('net.cidr_contains', expectString('net.cidr_contains', a, 0), false), parseCidr('net.cidr_contains', expectString('net.cidr_contains', a, 1), true)),
  },
  'net.cidr_intersects': {
    arity: 2,
    fn: (a) => {
      const x = parseCidr('net.cidr_intersects', expectString('net.cidr_intersects', a, 0), false);
      const y = parseCidr('net.cidr_intersects', expectString('net.cidr_intersects', a, 1), false);
      return contains(x, y) || contains(y, x);
    },
  },
  'net.cidr_is_valid': {
    arity: 1,
    fn: ([v]: readonly Value[]) => {
      if (typeof v !== 'string') return false;
      try {
        parseCidr('net.cidr_is_valid', v, false);
        return true;
      } catch {
        return false;
      }
    },
  },
  'net.cidr_expand': {
    arity: 1,
    fn: (a) => {
      const net = parseCidr('net.cidr_expand', expectString('net.cidr_expand', a, 0), false);
      const size = 1n << BigInt(net.bits - net.prefix);
      if (size > 65536n) throw new BuiltinError('net.cidr_expand: network too large to expand');
      const out = new RSet();
      for (let i = 0n; i < size; i++) out.add(formatIp(net.base + i, net.bits));
      return out;
    },
  },
};

/** A bare IPv4 address takes Go's classful default mask (ParseIP + DefaultMask); IPv6 needs a prefix. */
function parseForMerge(s: string): Net {
  if (s.includes('/')) return parseCidr('net.cidr_merge', s, false);
  const v4 = parseV4(s);
  if (v4 !== undefined) {
    const first = Number(v4 >> 24n);
    const prefix = first < 128 ? 8 : first < 192 ? 16 : 24;
    return { base: v4 & mask(prefix, 32), prefix, bits: 32 };
  }
  if (parseV6(s) !== undefined) throw new BuiltinError('net.cidr_merge: IPv6 invalid: needs prefix length');
  throw new BuiltinError(`net.cidr_merge: invalid CIDR address: ${s}`);
}

/** Smallest set of networks covering the inputs: drop contained networks, join sibling halves. */
function mergeNets(nets: Net[]): Net[] {
  const sorted = [...nets].sort((a, b) => a.bits - b.bits || (a.base < b.base ? -1 : a.base > b.base ? 1 : a.prefix - b.prefix));
  let out: Net[] = [];
  for (const n of sorted) if (!out.some((o) => contains(o, n))) out = [...out.filter((o) => !contains(n, o)), n];
  for (let changed = true; changed; ) {
    changed = false;
    out.sort((a, b) => a.bits - b.bits || (a.base < b.base ? -1 : a.base > b.base ? 1 : a.prefix - b.prefix));
    for (let i = 0; i + 1 < out.length; i++) {
      const a = out[i];
      const b = out[i + 1];
      if (a.bits !== b.bits || a.prefix !== b.prefix || a.prefix === 0) continue;
      const parent = a.prefix - 1;
      const size = 1n << BigInt(a.bits - a.prefix);
      if ((a.base & mask(parent, a.bits)) === a.base && b.base === a.base + size) {
        out.splice(i, 2, { base: a.base, prefix: parent, bits: a.bits });
        changed = true;
        break;
      }
    }
  }
  return out;
}

builtins['net.cidr_merge'] = {
  arity: 1,
  fn: ([v]) => {
    const items = Array.isArray(v) ? v : v instanceof RSet ? v.sorted() : undefined;
    if (!items) throw new BuiltinError('net.cidr_merge: operand 1 must be an array or set of strings');
    const nets = items.map((x) => {
      if (typeof x !== 'string') throw new BuiltinError('net.cidr_merge: element must be a string');
      return parseForMerge(x);
    });
    return mergeNets(nets).map((n) => `${formatIp(n.base, n.bits)}/${n.prefix}`);
  },
};

/** The (key, cidr-or-ip) pairs of an operand: a string, or an array/set/object of strings or non-empty arrays led by one. */
function cidrEntries(v: Value, operand: number): [Value, string][] {
  const element = (x: Value): string => {
    if (typeof x === 'string') return x;
    if (Array.isArray(x) && x.length > 0 && typeof x[0] === 'string') return x[0];
    throw new BuiltinError(`net.cidr_contains_matches: operand ${operand}: element must be string or non-empty array`);
  };
  if (typeof v === 'string') return [[v, v]];
  if (Array.isArray(v)) return v.map((x, i) => [i, element(x)]);
  if (v instanceof RSet) return v.sorted().map((x) => [x, element(x)]);
  if (v instanceof RObject) return v.sortedEntries().map(([k, x]) => [k, element(x)]);
  throw new BuiltinError(`net.cidr_contains_matches: operand ${operand} must be string, array, set or object`);
}

builtins['net.cidr_contains_matches'] = {
  arity: 2,
  fn: ([a, b]) => {
    const cidrs = cidrEntries(a, 1).map(([k, s]) => [k, parseCidr('net.cidr_contains_matches', s, false)] as const);
    const subjects = cidrEntries(b, 2).map(([k, s]) => [k, parseCidr('net.cidr_contains_matches', s, true)] as const);
    const out = new RSet();
    for (const [ka, na] of cidrs) for (const [kb, nb] of subjects) if (contains(na, nb)) out.add([ka, kb]);
    return out;
  },
};
