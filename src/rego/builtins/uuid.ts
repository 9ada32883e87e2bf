/** Rego builtins: UUIDs. uuid.rfc4122 is stable per key within one evaluation, as OPA's. */
import { randomUUID } from 'node:crypto';
import { numFromBigInt, RObject, type Value } from '../value.js';
import { expectString, type BuiltinTable } from './registry.js';

const UUID = /^(?:urn:uuid:)?\{?([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{12})\}?$/;

export const builtins: BuiltinTable = {
  'uuid.rfc4122': {
    arity: 1,
    nondeterministic: true,
    fn: (args, ctx) => {
      const key = 'uuid:' + expectString('uuid.rfc4122', args, 0);
      let v = ctx.cache.get(key) as string | undefined;
      if (!v) {
        v = randomUUID();
        ctx.cache.set(key, v);
      }
      return v;
    },
  },
  'uuid.parse': {
    arity: 1,
    fn: (args) => {
      const m = UUID.exec(expectString('uuid.parse', args, 0));
      if (!m) return undefined;
      const hex = m.slice(1).join('').toLowerCase();
      const variantBits = parseInt(hex[16], 16);
      const variant = (variantBits & 0x8) === 0 ? 'Reserved, NCS backward compatibility' : (variantBits & 0x4) === 0 ? 'RFC4122' : (variantBits & 0x2) === 0 ? 'Reserved, Microsoft Corporation backward compatibility' : 'Reserved, reserved for future definition';
      const version = parseInt(hex[12], 16);
      const out = new RObject().set('variant', variant).set('version', version);
      if (version === 1 || version === 2) {
        const time = (BigInt('0x' + hex.slice(13, 16)) << 48n) | (BigInt('0x' + hex.slice(8, 12)) << 32n) | BigInt('0x' + hex.slice(0, 8));
        const unixNs = (time - 0x01b21dd213814000n) * 100n;
        out.set('time', numFromBigInt(unixNs)); // exact: Go reports whole 100 ns ticks

        out.set('clocksequence', parseInt(hex.slice(16, 20), 16) & 0x3fff);
        out.set('nodeid', hex.slice(20).match(/../g)!.join('-'));
        // The IEEE 802 bits of the node's first byte: locally administered (0x02), multicast (0x01).
        const first = parseInt(hex.slice(20, 22), 16);
        out.set('macvariables', `${first & 0x02 ? 'local' : 'global'}:${first & 0x01 ? 'multicast' : 'unicast'}`);
        if (version === 2) {
          out.set('id', parseInt(hex.slice(0, 8), 16));
          out.set('domain', ['Person', 'Group', 'Org'][parseInt(hex.slice(18, 20), 16)] ?? `Domain${parseInt(hex.slice(18, 20), 16)}`);
        }
      }
      return out as Value;
    },
  },
};
