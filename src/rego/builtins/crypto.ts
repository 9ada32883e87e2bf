/** Rego builtins: hashes and HMACs (node:crypto), results in lower-case hex as OPA returns them. */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { expectString, type BuiltinTable } from './registry.js';

const hash = (name: string, algorithm: string) => ({ arity: 1, fn: (a: readonly import('../value.js').Value[]) => createHash(algorithm).update(expectString(name, a, 0)).digest('hex') });
const hmac = (name: string, algorithm: string) => ({
  arity: 2,
  fn: (a: readonly import('../value.js').Value[]) => createHmac(algorithm, expectString(name, a, 1)).update(expectString(name, a, 0)).digest('hex'),
});

export const builtins: BuiltinTable = {
  'crypto.md5': hash('crypto.md5', 'md5'),
  'crypto.sha1': hash('crypto.sha1', 'sha1'),
  'crypto.sha256': hash('crypto.sha256', 'sha256'),
  'crypto.hmac.md5': hmac('crypto.hmac.md5', 'md5'),
  'crypto.hmac.sha1': hmac('crypto.hmac.sha1', 'sha1'),
  'crypto.hmac.sha256': hmac('crypto.hmac.sha256', 'sha256'),
  'crypto.hmac.sha512': hmac('crypto.hmac.sha512', 'sha512'),
  'crypto.hmac.equal': {
    arity: 2,
    fn: (a) => {
      const x = Buffer.from(expectString('crypto.hmac.equal', a, 0));
      const y = Buffer.from(expectString('crypto.hmac.equal', a, 1));
      return x.length === y.length && timingSafeEqual(x, y);
    },
  },
};
