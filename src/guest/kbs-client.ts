/**
 * A KBS client (trustee's RCAR protocol, `kbs/docs/kbs_attestation_protocol.md`, version 0.4.0):
 *
 *   POST {url}/kbs/v0/auth      {version, tee, extra-params}        -> {nonce, extra-params} + Set-Cookie kbs-session-id
 *   POST {url}/kbs/v0/attest    {runtime-data: {nonce, tee-pubkey}, tee-evidence} (Cookie) -> {token}
 *   GET  {url}/kbs/v0/resource/{repo}/{type}/{tag}  (Cookie)          -> flattened JWE to tee-pubkey
 *
 * REPORT_DATA = H(JCS(runtime-data)) zero-padded to 64 bytes, H = SHA-384 (trustee's choice for SNP).
 * The key pair is made per attestation and its private half never leaves this process. Nonces are
 * single-use, so auth and attest are retried together; a resource fetch that finds the session gone
 * (401) re-attests once. CoCo init-data (TOML) travels as `init-data: {format: "toml", body}`.
 *
 * The admin calls of trustee's kbs-client are here too (the one KBS client behind `confcom kbs`,
 * `confcom guest` and the demo): resource and resource-policy upload with `Authorization: Bearer` of
 * an EdDSA JWT signed by the admin's Ed25519 private key.
 */
import type { KeyObject } from 'node:crypto';
import { SignJWT, type FlattenedJWE } from 'jose';
import { KBS_PROTOCOL_VERSION, primaryRuntimeData, structuredReportData } from '../attest/kbs/protocol.js';
import { GuestFlowError } from './errors.js';
import { exchange, objectBody, retrying, type FetchLike, type RetryOptions } from './http.js';
import { ephemeralKey, type EphemeralAlg, type EphemeralKey } from './keys.js';
import type { EvidenceProvider, GuestEvidence } from './evidence/provider.js';

export { KBS_PROTOCOL_VERSION };
export const KBS_SESSION_COOKIE = 'kbs-session-id';

export interface KbsClientOptions {
  /** Base URL of the KBS (scheme, host, port; the /kbs/v0 paths are appended). */
  url: string;
  /** Where evidence comes from; needed for attest and get-resource, not for the admin calls. */
  evidence?: EvidenceProvider;
  /** CoCo init-data (TOML text) sent with the attestation; its digest must be HOST_DATA. */
  initData?: string;
  keyAlg?: EphemeralAlg;
  retry?: RetryOptions;
  fetch?: FetchLike;
  /** Called after each step with non-secret fields (step name, ms, status). */
  onStep?: (step: string, fields: Record<string, unknown>) => void;
}

export interface KbsAttestation {
  token: string;
  evidence: GuestEvidence;
  /** The REPORT_DATA the TEE was asked to sign. */
  reportData: Buffer;
  nonce: string;
}

export interface ResourcePath {
  repository: string;
  type: string;
  tag: string;
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,252}$/;

/** `repo/type/tag` (or `/type/tag` for the default repository) checked segment by segment. */
export function parseResourcePath(text: string): ResourcePath {
  const parts = text.replace(/^kbs:\/\/\/?/, '').replace(/^\/+/, '').split('/');
  if (parts.length === 2) parts.unshift('default');
  const [repository, type, tag] = parts;
  if (parts.length !== 3 || ![repository, type, tag].every((s) => SEGMENT.test(s))) {
    throw new GuestFlowError('kbs/resource', 'resource_path_invalid', `resource path '${text.slice(0, 80)}' is not <repository>/<type>/<tag>`, {
      hint: 'e.g. default/key/app (letters, digits, ".", "_" and "-"; no segment starting with ".")',
    });
  }
  return { repository, type, tag };
}

function sessionCookie(headers: Headers): string | undefined {
  for (const line of headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === KBS_SESSION_COOKIE) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

export class KbsClient {
  private readonly base: string;
  private readonly fetcher: FetchLike;
  private cookie: string | undefined;
  private key: EphemeralKey | undefined;
  private attestation: KbsAttestation | undefined;

  constructor(private readonly options: KbsClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.fetcher = options.fetch ?? ((url, init) => fetch(url, init));
  }

  private step(name: string, started: number, fields: Record<string, unknown> = {}): void {
    this.options.onStep?.(name, { ms: Date.now() - started, ...fields });
  }

  /** auth → evidence → attest; returns the attestation token. */
  async attest(): Promise<KbsAttestation> {
    const result = await retrying('kbs/attest', this.options.retry ?? {}, () => this.attestOnce());
    this.attestation = result;
    return result;
  }

  private async attestOnce(): Promise<KbsAttestation> {
    const provider = this.options.evidence;
    if (!provider) throw new GuestFlowError('evidence', 'no_evidence_source', 'this client has no evidence provider to attest with');
    let started = Date.now();
    const auth = await exchange(this.fetcher, 'kbs/auth', `${this.base}/kbs/v0/auth`, {
      method: 'POST',
      body: { version: KBS_PROTOCOL_VERSION, tee: provider.tee, 'extra-params': '' },
    }, this.options.retry?.timeoutMs);
    const challenge = objectBody('kbs/auth', auth.body);
    const nonce = challenge.nonce;
    if (typeof nonce !== 'string' || nonce === '') throw new GuestFlowError('kbs/auth', 'challenge_invalid', 'the challenge has no nonce');
    const cookie = sessionCookie(auth.headers);
    if (!cookie) throw new GuestFlowError('kbs/auth', 'challenge_invalid', `the challenge set no ${KBS_SESSION_COOKIE} cookie`);
    this.step('kbs/auth', started);

    started = Date.now();
    const key = await ephemeralKey(this.options.keyAlg);
    // Trustee hashes {nonce, tee-pubkey, additional-evidence} (empty here) with the TEE's hash.
    const reportData = structuredReportData(primaryRuntimeData({ nonce, teePubkey: key.publicJwk, additionalEvidence: '' }), provider.tee);
    const evidence = await provider.evidence(reportData);
    this.step('evidence', started, { provider: provider.name, tee: evidence.tee, simulated: evidence.simulated });

    started = Date.now();
    const body: Record<string, unknown> = {
      'runtime-data': { nonce, 'tee-pubkey': key.publicJwk },
      'tee-evidence': { primary_evidence: evidence.wire, additional_evidence: '' },
    };
    if (this.options.initData !== undefined) body['init-data'] = { format: 'toml', body: this.options.initData };
    const attest = await exchange(this.fetcher, 'kbs/attest', `${this.base}/kbs/v0/attest`, { method: 'POST', body, headers: { cookie: `${KBS_SESSION_COOKIE}=${cookie}` } }, this.options.retry?.timeoutMs);
    const token = objectBody('kbs/attest', attest.body).token;
    if (typeof token !== 'string' || token === '') throw new GuestFlowError('kbs/attest', 'token_missing', 'the attestation answer has no token');
    this.cookie = sessionCookie(attest.headers) ?? cookie;
    this.key = key;
    this.step('kbs/attest', started);
    return { token, evidence, reportData, nonce };
  }

  /** The plaintext of a resource, attesting first when needed (and once more if the session was lost). */
  async getResource(path: ResourcePath | string): Promise<Buffer> {
    const id = typeof path === 'string' ? parseResourcePath(path) : path;
    if (!this.attestation) await this.attest();
    try {
      return await this.fetchResource(id);
    } catch (error) {
      if (!(error instanceof GuestFlowError) || error.status !== 401) throw error;
      await this.attest();
      return this.fetchResource(id);
    }
  }

  private resourceUrl(id: ResourcePath): string {
    return `${this.base}/kbs/v0/resource/${[id.repository, id.type, id.tag].map(encodeURIComponent).join('/')}`;
  }

  private async fetchResource(id: ResourcePath): Promise<Buffer> {
    const started = Date.now();
    const url = this.resourceUrl(id);
    const result = await retrying('kbs/resource', this.options.retry ?? {}, () =>
      exchange(this.fetcher, 'kbs/resource', url, { method: 'GET', headers: { cookie: `${KBS_SESSION_COOKIE}=${this.cookie ?? ''}` } }, this.options.retry?.timeoutMs),
    );
    const jwe = objectBody('kbs/resource', result.body);
    if (typeof jwe.ciphertext !== 'string' || typeof jwe.protected !== 'string') throw new GuestFlowError('kbs/resource', 'peer_response_invalid', 'the resource answer is not a flattened JWE');
    const secret = await (this.key as EphemeralKey).decryptFlattened(jwe as unknown as FlattenedJWE);
    this.step('kbs/resource', started, { resource: `${id.repository}/${id.type}/${id.tag}`, bytes: secret.length });
    return secret;
  }

  /** Admin: upload a resource's bytes (`POST /kbs/v0/resource/{repo}/{type}/{tag}`, octet-stream). */
  async setResource(adminKey: KeyObject, path: ResourcePath | string, value: Uint8Array): Promise<void> {
    const id = typeof path === 'string' ? parseResourcePath(path) : path;
    await this.admin('kbs/admin', this.resourceUrl(id), adminKey, { raw: value });
  }

  /** Admin: set the resource (release) policy (`POST /kbs/v0/resource-policy`, `{"policy": base64}`). */
  async setResourcePolicy(adminKey: KeyObject, policyText: string): Promise<void> {
    await this.admin('kbs/admin', `${this.base}/kbs/v0/resource-policy`, adminKey, { body: { policy: Buffer.from(policyText).toString('base64') } });
  }

  private async admin(step: 'kbs/admin', url: string, adminKey: KeyObject, payload: { body?: unknown; raw?: Uint8Array }): Promise<void> {
    // A fresh short-lived JWT per call, as trustee's kbs-client signs one (iat + exp).
    const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA' }).setIssuedAt().setExpirationTime('5m').sign(adminKey);
    await retrying(step, this.options.retry ?? {}, () =>
      exchange(this.fetcher, step, url, { method: 'POST', ...payload, headers: { authorization: `Bearer ${jwt}` } }, this.options.retry?.timeoutMs),
    );
  }
}
