/**
 * Release policies in the form Azure Key Vault's secure key release uses:
 *
 *   {"version": "1.0.0",
 *    "anyOf": [{"authority": "<token issuer>",
 *               "allOf": [{"claim": "x-ms-sevsnpvm-hostdata", "equals": "<policy hash>"}, ...]}]}
 *
 * An authority matches the token's `iss`; under it `allOf`/`anyOf` nest; a condition names a claim
 * (exact name first, then a dotted path into nested claims) and one operator: equals, notEquals, less,
 * lessOrEquals, greater, greaterOrEquals, exists. A claim that is absent fails its condition (except
 * `exists: false`). Parsing rejects anything else, so a misspelt operator cannot become "allow".
 */
import { parse as parseYaml } from '../../core/yaml.js';
import { InputError } from '../../core/errors.js';
import { readInputText } from '../../core/fs.js';

const OPERATORS = ['equals', 'notEquals', 'less', 'lessOrEquals', 'greater', 'greaterOrEquals', 'exists'] as const;
type Operator = (typeof OPERATORS)[number];
type Scalar = string | number | boolean;

export type ReleaseCondition =
  | { claim: string; operator: Operator; value: Scalar }
  | { anyOf: ReleaseCondition[] }
  | { allOf: ReleaseCondition[] };

export interface ReleaseAuthority {
  authority: string;
  condition: ReleaseCondition;
}

export interface ReleasePolicy {
  version: string;
  anyOf: ReleaseAuthority[];
}

export interface ReleaseDecision {
  allow: boolean;
  /** Why not (first failing condition per authority); never contains secret material. */
  reasons: string[];
}

type Obj = Record<string, unknown>;

function policyError(file: string | undefined, path: string, message: string): InputError {
  return new InputError('release_policy_invalid', `release policy: ${path}: ${message}`, {
    location: { file, path },
    hint: 'use the Azure form {"version":"1.0.0","anyOf":[{"authority":"<issuer>","allOf":[{"claim":"<name>","equals":<value>}]}]}',
  });
}

/** Field lookup that accepts Azure's documented lower-case spellings (anyof/allof) too. */
function field(obj: Obj, name: string): unknown {
  if (name in obj) return obj[name];
  const lower = name.toLowerCase();
  const key = Object.keys(obj).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : obj[key];
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseCondition(raw: unknown, path: string, file: string | undefined): ReleaseCondition {
  if (!isObj(raw)) throw policyError(file, path, 'expected a condition object');
  const anyOf = field(raw, 'anyOf');
  const allOf = field(raw, 'allOf');
  const claim = field(raw, 'claim');
  const kinds = [anyOf !== undefined, allOf !== undefined, claim !== undefined].filter(Boolean).length;
  if (kinds !== 1) throw policyError(file, path, 'a condition has exactly one of claim, anyOf, allOf');
  if (anyOf !== undefined || allOf !== undefined) {
    const list = anyOf ?? allOf;
    const name = anyOf !== undefined ? 'anyOf' : 'allOf';
    if (!Array.isArray(list) || list.length === 0) throw policyError(file, `${path}.${name}`, 'expected a non-empty list of conditions');
    const parsed = list.map((c, i) => parseCondition(c, `${path}.${name}[${i}]`, file));
    return anyOf !== undefined ? { anyOf: parsed } : { allOf: parsed };
  }
  if (typeof claim !== 'string' || claim === '') throw policyError(file, `${path}.claim`, 'expected a claim name');
  const ops = Object.keys(raw).filter((k) => k !== 'claim');
  if (ops.length !== 1) throw policyError(file, path, `a claim condition has exactly one operator (${OPERATORS.join(', ')})`);
  const operator = OPERATORS.find((o) => o.toLowerCase() === ops[0]!.toLowerCase());
  if (!operator) throw policyError(file, `${path}.${ops[0]}`, `unknown operator (known: ${OPERATORS.join(', ')})`);
  const value = raw[ops[0]!];
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw policyError(file, `${path}.${ops[0]}`, 'expected a string, number or boolean');
  }
  if (operator === 'exists' && typeof value !== 'boolean') throw policyError(file, `${path}.exists`, 'expected true or false');
  if (['less', 'lessOrEquals', 'greater', 'greaterOrEquals'].includes(operator) && typeof value !== 'number') {
    throw policyError(file, `${path}.${ops[0]}`, 'ordering operators compare numbers');
  }
  return { claim, operator, value };
}

/**
 * The confidential sidecar's importkeyconfig.json form,
 *   {"key": {"kid", "authority": {"endpoint": "<MAA host>"}, ...}, "claims": [[{"claim", "equals"}, ...], ...]}
 * as the release policy its import tool makes of it: each inner list is one allOf under the authority
 * https://<endpoint>, and the lists are alternatives.
 */
function fromImportKeyConfig(doc: Obj, file: string | undefined): Obj {
  const key = field(doc, 'key');
  const endpoint = isObj(key) && isObj(field(key, 'authority')) ? field(field(key, 'authority') as Obj, 'endpoint') : undefined;
  if (typeof endpoint !== 'string' || endpoint === '') throw policyError(file, 'key.authority.endpoint', 'expected the attestation authority host');
  const claims = field(doc, 'claims');
  if (!Array.isArray(claims) || claims.length === 0 || !claims.every((c) => Array.isArray(c) && c.length > 0)) {
    throw policyError(file, 'claims', 'expected a non-empty list of non-empty claim lists');
  }
  const authority = /^https?:\/\//.test(endpoint) ? endpoint : `https://${endpoint}`;
  return { version: '1.0.0', anyOf: (claims as unknown[][]).map((allOf) => ({ authority, allOf })) };
}

/** Validates a release policy given as parsed JSON/YAML (Azure's form, or the sidecar's importkeyconfig.json). */
export function parseReleasePolicy(doc: unknown, file?: string): ReleasePolicy {
  if (!isObj(doc)) throw policyError(file, '$', 'expected an object');
  if (field(doc, 'claims') !== undefined && field(doc, 'anyOf') === undefined) doc = fromImportKeyConfig(doc, file);
  if (!isObj(doc)) throw policyError(file, '$', 'expected an object');
  const version = field(doc, 'version');
  if (typeof version !== 'string' || !/^1\.0(\.0)?$/.test(version)) throw policyError(file, 'version', "expected \"1.0.0\"");
  const anyOf = field(doc, 'anyOf');
  if (!Array.isArray(anyOf) || anyOf.length === 0) throw policyError(file, 'anyOf', 'expected a non-empty list of authorities');
  return {
    version,
    anyOf: anyOf.map((a, i) => {
      const path = `anyOf[${i}]`;
      if (!isObj(a)) throw policyError(file, path, 'expected an authority object');
      const authority = field(a, 'authority');
      if (typeof authority !== 'string' || authority === '') throw policyError(file, `${path}.authority`, 'expected the issuer URL of trusted tokens');
      const rest = Object.fromEntries(Object.entries(a).filter(([k]) => k.toLowerCase() !== 'authority'));
      return { authority, condition: parseCondition(rest, path, file) };
    }),
  };
}

export async function loadReleasePolicy(file: string): Promise<ReleasePolicy> {
  const text = await readInputText(file);
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw policyError(file, '$', `not valid JSON or YAML: ${(error as Error).message}`);
  }
  return parseReleasePolicy(doc, file);
}

function normaliseAuthority(url: string): string {
  return url.trim().replace(/\/+$/, '').toLowerCase();
}

/**
 * A claim by exact name, else by dotted path into nested objects, where a key may itself hold dots
 * (EAR's `submods.cpu0.ear.status`): at each level the longest key that matches the path's next parts wins.
 */
function lookup(claims: Obj, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(claims, name)) return claims[name];
  const walk = (cur: unknown, parts: string[]): unknown => {
    if (parts.length === 0) return cur;
    if (!isObj(cur)) return undefined;
    for (let n = parts.length; n >= 1; n--) {
      const key = parts.slice(0, n).join('.');
      if (Object.prototype.hasOwnProperty.call(cur, key)) {
        const found = walk(cur[key], parts.slice(n));
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return walk(claims, name.split('.'));
}

const HEX = /^[0-9a-fA-F]+$/;

function same(a: unknown, b: Scalar): boolean {
  // Hex digests compare without regard to case (tokens carry lower case; people paste either).
  if (typeof a === 'string' && typeof b === 'string' && HEX.test(a) && HEX.test(b)) return a.toLowerCase() === b.toLowerCase();
  return a === b;
}

function test(condition: ReleaseCondition, claims: Obj): string | undefined {
  if ('anyOf' in condition) {
    const failures = condition.anyOf.map((c) => test(c, claims));
    return failures.some((f) => f === undefined) ? undefined : `none of: ${failures.join('; ')}`;
  }
  if ('allOf' in condition) {
    for (const c of condition.allOf) {
      const failure = test(c, claims);
      if (failure !== undefined) return failure;
    }
    return undefined;
  }
  const actual = lookup(claims, condition.claim);
  const { claim, operator, value } = condition;
  if (operator === 'exists') return (actual !== undefined) === value ? undefined : `claim ${claim} ${value ? 'is absent' : 'is present'}`;
  if (actual === undefined) return `claim ${claim} is absent`;
  let ok: boolean;
  switch (operator) {
    case 'equals':
      ok = same(actual, value);
      break;
    case 'notEquals':
      ok = !same(actual, value);
      break;
    default: {
      if (typeof actual !== 'number' || typeof value !== 'number') return `claim ${claim} is not a number`;
      ok = operator === 'less' ? actual < value : operator === 'lessOrEquals' ? actual <= value : operator === 'greater' ? actual > value : actual >= value;
    }
  }
  // The claim's value is evidence (hashes, SVNs), never secret, so it may be named in the reason.
  return ok ? undefined : `claim ${claim} = ${JSON.stringify(actual)} fails ${operator} ${JSON.stringify(value)}`;
}

/** Decides a release against a verified token's claims. */
export function evaluateReleasePolicy(policy: ReleasePolicy, claims: Obj): ReleaseDecision {
  const reasons: string[] = [];
  const issuer = typeof claims.iss === 'string' ? normaliseAuthority(claims.iss) : undefined;
  for (const entry of policy.anyOf) {
    if (issuer === undefined || normaliseAuthority(entry.authority) !== issuer) {
      reasons.push(`authority ${entry.authority} did not issue this token`);
      continue;
    }
    const failure = test(entry.condition, claims);
    if (failure === undefined) return { allow: true, reasons: [] };
    reasons.push(`authority ${entry.authority}: ${failure}`);
  }
  return { allow: false, reasons };
}
