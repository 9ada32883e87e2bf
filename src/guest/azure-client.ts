/**
 * The Azure flow of the confidential sidecar (SKR): attest to a MAA-compatible endpoint, then release a
 * key from a Key Vault / managed HSM-compatible endpoint with the MAA token.
 *
 *   POST {maa}/attest/SevSnpVm?api-version=2022-08-01
 *        {report: b64url(JSON {SnpReport: b64url(report), VcekCertChain: b64url(PEM chain)}),
 *         runtimeData: {data: b64url(JSON {keys: [<our RSA public JWK>]}), dataType: "JSON"}, nonce?}
 *        -> {token}
 *   POST {akv}/keys/{name}[/{version}]/release?api-version=7.3   Authorization: Bearer <AAD token>
 *        {target: <MAA token>} -> {value: <JWS>}; payload.response.key.key.key_hsm =
 *        b64url(JSON {ciphertext: b64url(RSA-OAEP(tmp AES key) || AES-KWP(tmp key, key bytes))})  (CKM_RSA_AES_KEY_WRAP)
 *
 * REPORT_DATA[0..32] = SHA-256 of the exact runtime data bytes (MAA's binding). The OAEP hash of the
 * unwrap follows the payload's `request.enc`, as the sidecar does (src/attest/azure/skr.ts).
 */
import { createHash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { KEY_WRAP_ALGORITHMS, rsaAesKeyUnwrap, type KeyWrapAlgorithm } from '../attest/azure/skr.js';
import { GuestFlowError } from './errors.js';
import { exchange, objectBody, retrying, type FetchLike, type RetryOptions } from './http.js';
import { ephemeralKey, type EphemeralKey } from './keys.js';
import type { EvidenceProvider } from './evidence/provider.js';

export const MAA_API_VERSION = '2022-08-01';
export const AKV_API_VERSION = '7.3';

export interface AzureClientOptions {
  evidence: EvidenceProvider;
  retry?: RetryOptions;
  fetch?: FetchLike;
}

export interface MaaAttestation {
  token: string;
  reportData: Buffer;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

function pemChain(certs: unknown): string {
  if (!Array.isArray(certs)) return '';
  return certs
    .map((c) => `-----BEGIN CERTIFICATE-----\n${String(c).match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----\n`)
    .join('');
}

export class AzureSkrClient {
  private readonly fetcher: FetchLike;
  private key: EphemeralKey | undefined;

  constructor(private readonly options: AzureClientOptions) {
    this.fetcher = options.fetch ?? ((url, init) => fetch(url, init));
  }

  private async runtimeKey(): Promise<EphemeralKey> {
    return (this.key ??= await ephemeralKey('RSA-OAEP-256'));
  }

  /** Attests to MAA with our runtime key (and optional extra runtime claims); returns the token. */
  async attestMaa(maaEndpoint: string, runtimeClaims: Record<string, unknown> = {}): Promise<MaaAttestation> {
    const key = await this.runtimeKey();
    const runtime = Buffer.from(JSON.stringify({ ...runtimeClaims, keys: [{ ...key.publicJwk, kid: 'confcom-guest', key_ops: ['encrypt'] }] }), 'utf8');
    const reportData = Buffer.alloc(64);
    createHash('sha256').update(runtime).digest().copy(reportData);
    const evidence = await this.options.evidence.evidence(reportData);
    const report = evidence.wire.report as string;
    const body = {
      report: b64url(JSON.stringify({ SnpReport: b64url(Buffer.from(report, 'base64')), VcekCertChain: b64url(pemChain(evidence.wire.certs)) })),
      runtimeData: { data: b64url(runtime), dataType: 'JSON' },
    };
    const url = `${maaEndpoint.replace(/\/+$/, '')}/attest/SevSnpVm?api-version=${MAA_API_VERSION}`;
    const result = await retrying('maa/attest', this.options.retry ?? {}, () => exchange(this.fetcher, 'maa/attest', url, { method: 'POST', body }, this.options.retry?.timeoutMs));
    const token = objectBody('maa/attest', result.body).token;
    if (typeof token !== 'string') throw new GuestFlowError('maa/attest', 'token_missing', 'the attestation answer has no token');
    return { token, reportData };
  }

  /** Releases a key: `kid` is the Key Vault key URL or path (`/keys/{name}[/{version}]`); returns the key bytes. */
  async releaseKey(akvEndpoint: string, kid: string, maaToken: string, accessToken?: string): Promise<Buffer> {
    const base = akvEndpoint.replace(/\/+$/, '');
    const key = await this.runtimeKey();
    const path = kid.startsWith('http') ? new URL(kid).pathname : kid.startsWith('/') ? kid : `/keys/${kid}`;
    const url = `${base}${path.replace(/\/+$/, '')}/release?api-version=${AKV_API_VERSION}`;
    const headers: Record<string, string> = accessToken ? { authorization: `Bearer ${accessToken}` } : {};
    const result = await retrying('key/release', this.options.retry ?? {}, () => exchange(this.fetcher, 'key/release', url, { method: 'POST', body: { target: maaToken }, headers }, this.options.retry?.timeoutMs));
    const value = objectBody('key/release', result.body).value;
    if (typeof value !== 'string') throw new GuestFlowError('key/release', 'peer_response_invalid', 'the release answer has no value');
    return unwrapKeyHsm(value, key);
  }
}

/** The key bytes inside a Key Vault release JWS (key_hsm, wrapped as the payload's `request.enc` says). */
async function unwrapKeyHsm(jws: string, key: EphemeralKey): Promise<Buffer> {
  const bad = (what: string) => new GuestFlowError('key/release', 'peer_response_invalid', `the release answer ${what}`);
  let payload: Record<string, unknown>;
  try {
    decodeProtectedHeader(jws);
    payload = decodeJwt(jws) as Record<string, unknown>;
  } catch {
    throw bad('is not a JWS');
  }
  const field = (o: unknown, name: string): unknown => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[name] : undefined);
  const keyHsm = field(field(field(payload.response, 'key'), 'key'), 'key_hsm');
  if (typeof keyHsm !== 'string') throw bad('has no response.key.key.key_hsm');
  // Key Vault's default when the request named none, as the sidecar assumes.
  const enc = field(payload.request, 'enc') ?? 'CKM_RSA_AES_KEY_WRAP';
  if (typeof enc !== 'string' || !Object.prototype.hasOwnProperty.call(KEY_WRAP_ALGORITHMS, enc)) throw bad(`names an unknown key wrap algorithm '${String(enc).slice(0, 32)}'`);
  let wrapped: Buffer;
  try {
    const doc = JSON.parse(Buffer.from(keyHsm, 'base64url').toString('utf8')) as { ciphertext?: unknown };
    if (typeof doc.ciphertext !== 'string') throw new Error('no ciphertext');
    wrapped = Buffer.from(doc.ciphertext, 'base64url');
  } catch {
    throw bad('key_hsm is not {ciphertext}');
  }
  if (wrapped.length <= key.modulusBytes + 8) throw bad('key_hsm ciphertext is too short');
  try {
    return await rsaAesKeyUnwrap(wrapped, enc as KeyWrapAlgorithm, key.modulusBytes, (data, hash) => key.decryptRsaOaep(data, hash));
  } catch {
    throw new GuestFlowError('decrypt', 'key_unwrap_failed', 'the released key does not unwrap with this attestation\'s key');
  }
}
