/** Rego builtins: semantic versions (semver.org 2.0.0). */
import { BuiltinError } from '../errors.js';
import type { Value } from '../value.js';
import { expectString, type BuiltinTable } from './registry.js';

const SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

function parseVersion(name: string, s: string, operand: number): { core: bigint[]; pre: string[] } {
  const m = SEMVER.exec(s);
  if (!m) throw new BuiltinError(`${name}: operand ${operand}: string ${JSON.stringify(s)} is not a valid SemVer`);
  return { core: [BigInt(m[1]), BigInt(m[2]), BigInt(m[3])], pre: m[4] ? m[4].split('.') : [] };
}

function comparePre(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const an = /^\d+$/.test(a[i]);
    const bn = /^\d+$/.test(b[i]);
    if (an && bn) {
      const d = BigInt(a[i]) - BigInt(b[i]);
      if (d !== 0n) return d < 0n ? -1 : 1;
    } else if (an !== bn) return an ? -1 : 1;
    else if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return Math.sign(a.length - b.length);
}

export const builtins: BuiltinTable = {
  'semver.is_valid': { arity: 1, fn: ([v]: readonly Value[]) => typeof v === 'string' && SEMVER.test(v) && !v.startsWith('v') },
  'semver.compare': {
    arity: 2,
    fn: (args) => {
      const a = parseVersion('semver.compare', expectString('semver.compare', args, 0), 1);
      const b = parseVersion('semver.compare', expectString('semver.compare', args, 1), 2);
      for (let i = 0; i < 3; i++) if (a.core[i] !== b.core[i]) return a.core[i] < b.core[i] ? -1 : 1;
      return comparePre(a.pre, b.pre);
    },
  },
};
