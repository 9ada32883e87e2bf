/**
 * Rego builtins: providers.aws.sign_req, AWS Signature Version 4 computed offline (no network): the
 * request gets host, x-amz-content-sha256, x-amz-date (and x-amz-security-token) headers and an
 * Authorization header over the canonical request, as OPA's AWS provider signs it.
 */
import { createHmac } from 'node:crypto';
import { sha256Hex } from '../../core/hash.js';
import { BuiltinError, EvalTypeError } from '../errors.js';
import { formatValue } from '../format.js';
import { fromJson, isNumber, RObject, RSet, serializeJson, toBigInt, toJson, type Value } from '../value.js';
import { operandTypeError, type BuiltinTable } from './registry.js';

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

function requireStrings(obj: RObject, keys: string[], operand: number, what: string): Record<string, string> {
  const missing = keys.filter((k) => obj.get(k) === undefined);
  if (missing.length) throw new EvalTypeError(`providers.aws.sign_req: operand ${operand} missing required ${what}(s): ${formatValue(new RSet(missing))}`);
  const invalid = keys.filter((k) => typeof obj.get(k) !== 'string');
  if (invalid.length) throw new EvalTypeError(`providers.aws.sign_req: operand ${operand} invalid values for required ${what}(s): ${formatValue(new RSet(invalid))}`);
  return Object.fromEntries(keys.map((k) => [k, obj.get(k) as string]));
}

/** RFC 3986 encoding as AWS wants it (unreserved characters kept). */
function awsEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function amzDate(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export const builtins: BuiltinTable = {
  'providers.aws.sign_req': {
    arity: 3,
    fn: ([reqValue, configValue, timeValue]) => {
      if (!(reqValue instanceof RObject)) throw operandTypeError('providers.aws.sign_req', 1, ['object'], reqValue);
      if (!(configValue instanceof RObject)) throw operandTypeError('providers.aws.sign_req', 2, ['object'], configValue);
      if (!isNumber(timeValue) || toBigInt(timeValue) === undefined) {
        throw new EvalTypeError('providers.aws.sign_req: operand 3 could not convert time_ns value into a unix timestamp');
      }
      const req = requireStrings(reqValue, ['method', 'url'], 1, 'request parameters');
      const cfg = requireStrings(configValue, ['aws_access_key', 'aws_region', 'aws_secret_access_key', 'aws_service'], 2, 'AWS config parameters');
      const token = configValue.get('aws_session_token');
      let url: URL;
      try {
        url = new URL(req.url);
      } catch {
        throw new BuiltinError(`providers.aws.sign_req: invalid url ${JSON.stringify(req.url)}`);
      }
      const userHeaders = reqValue.get('headers');
      const rawBody = reqValue.get('raw_body');
      const body = typeof rawBody === 'string' ? rawBody : reqValue.get('body') !== undefined ? serializeJson(reqValue.get('body') as Value) : '';
      const disable = configValue.get('disable_payload_signing');
      if (disable !== undefined && typeof disable !== 'boolean') {
        throw new EvalTypeError("providers.aws.sign_req: operand 2 invalid value for 'disable_payload_signing' in AWS config");
      }
      // A caller-supplied x-amz-content-sha256 header is the payload hash as given, unless the request has a
      // body: then the body's hash (or UNSIGNED-PAYLOAD) replaces it, as OPA does.
      const hasBody = typeof rawBody === 'string' || reqValue.get('body') !== undefined;
      const given = userHeaders instanceof RObject && !hasBody ? [...userHeaders.entries()].find(([k]) => typeof k === 'string' && k.toLowerCase() === 'x-amz-content-sha256')?.[1] : undefined;
      const payloadHash = typeof given === 'string' ? given : disable === true ? 'UNSIGNED-PAYLOAD' : sha256Hex(body);
      const date = amzDate(toBigInt(timeValue) as bigint);
      const day = date.slice(0, 8);

      const headers = new Map<string, string>();
      const outHeaders = new RObject();
      if (userHeaders instanceof RObject) {
        for (const [k, v] of userHeaders.entries()) {
          if (typeof k !== 'string') continue;
          const text = typeof v === 'string' ? v : JSON.stringify(toJson(v));
          headers.set(k.toLowerCase(), text);
          outHeaders.set(k, v);
        }
      }
      headers.set('host', url.host);
      // OPA signs a caller's own x-amz-content-sha256 header as given (even when the body's hash replaces it
      // in the returned headers): kept for identical signatures.
      if (!headers.has('x-amz-content-sha256')) headers.set('x-amz-content-sha256', payloadHash);
      headers.set('x-amz-date', date);
      if (typeof token === 'string') headers.set('x-amz-security-token', token);
      const names = [...headers.keys()].sort();
      const canonicalHeaders = names.map((n) => `${n}:${headers.get(n)!.trim()}\n`).join('');
      const signedHeaders = names.join(';');
      const query = [...url.searchParams.entries()]
        .map(([k, v]) => [awsEncode(k), awsEncode(v)])
        .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
        .map(([k, v]) => `${k}=${v}`)
        .join('&');
      // OPA signs the method as given and the URL's escaped path as written (empty for a bare host).
      const rawPath = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(req.url)?.[1] ?? url.pathname;
      const canonicalRequest = [req.method, rawPath, query, canonicalHeaders, signedHeaders, payloadHash].join('\n');
      const scope = `${day}/${cfg.aws_region}/${cfg.aws_service}/aws4_request`;
      const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256Hex(canonicalRequest)].join('\n');
      const signingKey = hmac(hmac(hmac(hmac('AWS4' + cfg.aws_secret_access_key, day), cfg.aws_region), cfg.aws_service), 'aws4_request');
      const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');

      outHeaders.set('Authorization', `AWS4-HMAC-SHA256 Credential=${cfg.aws_access_key}/${scope},SignedHeaders=${signedHeaders},Signature=${signature}`);
      outHeaders.set('host', url.host);
      outHeaders.set('x-amz-content-sha256', payloadHash);
      outHeaders.set('x-amz-date', date);
      if (typeof token === 'string') outHeaders.set('x-amz-security-token', token);
      const out = new RObject(reqValue.entries());
      out.set('headers', outHeaders);
      return fromJson(out);
    },
  },
};
