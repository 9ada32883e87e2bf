/**
 * `initdata`: a TOML document (`algorithm`, `version`, `[data]` "policy.rego"), gzip + base64 in
 * io.katacontainers.config.hypervisor.cc_init_data; HOST_DATA = SHA-256 of the TOML bytes.
 *
 * We write the TOML ourselves (the bytes are hashed, so they must never change with a library
 * version) and read it back with smol-toml, so initdata written by other tools (more keys, other
 * quoting) reads too.
 */
import { createRequire } from 'node:module';
import { InputError } from '../../core/errors.js';
import { sha256Hex } from '../../core/hash.js';
import type { PolicyFormatModule } from './format.js';

export const INITDATA_ANNOTATION = 'io.katacontainers.config.hypervisor.cc_init_data';
export const INITDATA_VERSION = '0.1.0';

// smol-toml and zlib load only when initdata is written or read: every command that touches the
// format table (`policy hash` on an aks manifest, `generate`) would otherwise pay for them at start-up
// (a few ms of CPU each). `require` keeps the loads synchronous, so encode and decode stay plain
// functions; smol-toml ships a CommonJS build for it.
const require = createRequire(import.meta.url);
const parseToml = (text: string): unknown => (require('smol-toml') as typeof import('smol-toml')).parse(text);
const zlib = (): typeof import('node:zlib') => require('node:zlib') as typeof import('node:zlib');

const HINT = 'regenerate it with `confcom policy generate --format initdata`';

/** A TOML string for the policy: a multi-line literal when the text allows one, else a basic string. */
function tomlString(text: string): string {
  // eslint-disable-next-line no-control-regex
  const plain = !text.includes("'''") && !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text);
  if (plain) return `'''\n${text}'''`;
  const escapes: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\t': '\\t' };
  // eslint-disable-next-line no-control-regex
  return `"${text.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => escapes[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/** The initdata TOML, keys sorted. */
export function initdataToml(policy: string): string {
  return `algorithm = "sha256"\nversion = "${INITDATA_VERSION}"\n\n[data]\n"policy.rego" = ${tomlString(policy)}\n`;
}

/** Reads `[data]` "policy.rego" from an initdata TOML document. */
export function policyFromToml(toml: string, origin: string): string {
  let parsed: Record<string, unknown>;
  try {
    parsed = parseToml(toml) as Record<string, unknown>;
  } catch (cause) {
    throw new InputError('initdata_invalid', `the initdata in ${origin} is not valid TOML: ${(cause as Error).message.split('\n')[0]}`, { hint: HINT, cause });
  }
  const data = parsed.data;
  const policy = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)['policy.rego'] : undefined;
  if (typeof policy !== 'string') throw new InputError('initdata_invalid', `the initdata in ${origin} has no [data] "policy.rego" string`, { hint: HINT });
  return policy;
}

/** The TOML text of an annotation value (gzip + base64). */
export function initdataFromAnnotation(value: string, origin: string): string {
  try {
    return zlib().gunzipSync(Buffer.from(value, 'base64')).toString('utf8');
  } catch (cause) {
    throw new InputError('initdata_invalid', `the initdata annotation in ${origin} is not gzip + base64`, { hint: HINT, cause });
  }
}

export const initdataFormat: PolicyFormatModule<'initdata'> = {
  name: 'initdata',
  annotation: INITDATA_ANNOTATION,
  describe: 'gzip+base64 initdata TOML',
  encode: (policy) => {
    const toml = initdataToml(policy);
    return { annotation: INITDATA_ANNOTATION, value: zlib().gzipSync(Buffer.from(toml, 'utf8'), { level: 9 }).toString('base64'), hostData: sha256Hex(toml) };
  },
  decode: (value, origin) => {
    const toml = initdataFromAnnotation(value, origin);
    return { policy: policyFromToml(toml, origin), hostData: sha256Hex(toml) };
  },
  document: initdataToml,
};
