/**
 * How a policy rides on the pod: `aks` (annotation io.katacontainers.config.agent.policy = base64 of
 * the policy text; HOST_DATA = SHA-256 of the text) or `initdata` (a TOML document with `algorithm`,
 * `version` and `[data]` "policy.rego", gzip + base64 in io.katacontainers.config.hypervisor.cc_init_data;
 * HOST_DATA = SHA-256 of the TOML bytes).
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { InputError } from '../core/errors.js';

export type PolicyFormat = 'aks' | 'initdata';
export const POLICY_FORMATS: readonly PolicyFormat[] = ['aks', 'initdata'];

export const AKS_ANNOTATION = 'io.katacontainers.config.agent.policy';
export const INITDATA_ANNOTATION = 'io.katacontainers.config.hypervisor.cc_init_data';
export const INITDATA_VERSION = '0.1.0';

export const annotationFor = (format: PolicyFormat) => (format === 'aks' ? AKS_ANNOTATION : INITDATA_ANNOTATION);

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A TOML string for the policy: a multi-line literal when the text allows one, else a basic string. */
function tomlString(text: string): string {
  // eslint-disable-next-line no-control-regex
  const plain = !text.includes("'''") && !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text);
  if (plain) return `'''\n${text}'''`;
  // eslint-disable-next-line no-control-regex
  return `"${text.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))}"`;
}

/** The initdata TOML, keys sorted. */
export function initdataToml(policy: string): string {
  return `algorithm = "sha256"\nversion = "${INITDATA_VERSION}"\n\n[data]\n"policy.rego" = ${tomlString(policy)}\n`;
}

/** Reads "policy.rego" back from initdata TOML written by initdataToml. */
export function policyFromToml(toml: string, origin: string): string {
  const literal = /\n"policy\.rego" = '''\n([\s\S]*)'''\n?$/.exec(toml);
  if (literal) return literal[1];
  const basic = /\n"policy\.rego" = ("(?:[^"\\]|\\.)*")\n?$/.exec(toml);
  if (basic) return JSON.parse(basic[1]) as string;
  throw new InputError('initdata_invalid', `the initdata in ${origin} has no "policy.rego" entry`, { hint: 'regenerate it with `confcom policy generate --format initdata`' });
}

export interface EncodedPolicy {
  annotation: string;
  value: string;
  /** HOST_DATA, lower-case hex. */
  hostData: string;
}

export function encodePolicy(policy: string, format: PolicyFormat): EncodedPolicy {
  if (format === 'aks') return { annotation: AKS_ANNOTATION, value: Buffer.from(policy, 'utf8').toString('base64'), hostData: sha256Hex(policy) };
  const toml = initdataToml(policy);
  return { annotation: INITDATA_ANNOTATION, value: gzipSync(Buffer.from(toml, 'utf8'), { level: 9 }).toString('base64'), hostData: sha256Hex(toml) };
}

/** The policy text and HOST_DATA from an annotation value. */
export function decodePolicy(value: string, format: PolicyFormat, origin: string): { policy: string; hostData: string } {
  if (format === 'aks') {
    const policy = Buffer.from(value, 'base64').toString('utf8');
    return { policy, hostData: sha256Hex(policy) };
  }
  let toml: string;
  try {
    toml = gunzipSync(Buffer.from(value, 'base64')).toString('utf8');
  } catch (cause) {
    throw new InputError('initdata_invalid', `the initdata annotation in ${origin} is not gzip + base64`, { hint: 'regenerate it with `confcom policy generate --format initdata`', cause });
  }
  return { policy: policyFromToml(toml, origin), hostData: sha256Hex(toml) };
}
