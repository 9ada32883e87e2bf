/**
 * A KBS client (trustee protocol 0.4.0), what trustee's `kbs-client` does: RCAR with an ephemeral TEE
 * key that never leaves this process, resource fetch and JWE decryption, and the admin calls signed
 * with the admin's Ed25519 key. Evidence comes from a caller-supplied function given the REPORT_DATA
 * to sign (the software TEE for `confcom kbs`, the hardware for the guest agent).
 */
import { createHash, type KeyObject } from 'node:crypto';
import { SignJWT, exportJWK, flattenedDecrypt, generateKeyPair, type CryptoKey, type FlattenedJWE, type JWK } from 'jose';
import { CheckFailedError } from '../../core/errors.js';
import { canonicalJson } from './canonical-json.js';
import { KBS_PROTOCOL_VERSION } from './protocol.js';

export interface KbsEvidenceSource {
  tee: string;
  /** Primary evidence whose REPORT_DATA is `reportData`. */
  evidence(reportData: Buffer): Promise<unknown>;
}

export interface KbsClientOptions {
  url: string;
  fetch?: typeof fetch;
}

/** A refusal from the KBS: its status and ErrorInformation, never a secret. */
export class KbsClientError extends CheckFailedError {
  constructor(
    step: string,
    readonly status: number,
    readonly problemType: string,
    detail: string,
  ) {
    super('kbs_refused', `${step}: KBS answered ${status} ${problemType}: ${detail}`.slice(0, 600));
  }
}

async function refusal(step: string, r: Response): Promise<KbsClientError> {
  const text = await r.text();
  try {
    const body = JSON.parse(text) as { type?: string; detail?: string };
    return new KbsClientError(step, r.status, String(body.type ?? '').split('/').pop() ?? '', String(body.detail ?? ''));
  } catch {
    return new KbsClientError(step, r.status, '', text.slice(0, 200));
  }
}

export class KbsClient {
  private cookie = '';
  private privateKey: CryptoKey | undefined;
  token = '';
  private readonly base: string;
  private readonly http: typeof fetch;

  constructor(options: KbsClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.http = options.fetch ?? fetch;
  }

  private async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const h: Record<string, string> = { ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (body !== undefined && !(body instanceof Uint8Array)) h['content-type'] = 'application/json';
    if (body instanceof Uint8Array) h['content-type'] = 'application/octet-stream';
    const r = await this.http(`${this.base}${path}`, { method, headers: h, body: body === undefined ? undefined : body instanceof Uint8Array ? body : JSON.stringify(body) });
    const m = /kbs-session-id=([^;]*)/.exec(r.headers.get('set-cookie') ?? '');
    if (m) this.cookie = `kbs-session-id=${m[1]}`;
    return r;
  }

  /** auth + attest; returns the attestation token. */
  async attest(source: KbsEvidenceSource, initData?: string): Promise<string> {
    const auth = await this.call('POST', '/kbs/v0/auth', { version: KBS_PROTOCOL_VERSION, tee: source.tee, 'extra-params': '' });
    if (auth.status !== 200) throw await refusal('auth', auth);
    const { nonce } = (await auth.json()) as { nonce: string };
    const { publicKey, privateKey } = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256' });
    this.privateKey = privateKey;
    const teePubkey: JWK = { ...(await exportJWK(publicKey)), alg: 'ECDH-ES+A256KW' };
    const runtime = { 'tee-pubkey': teePubkey, nonce, 'additional-evidence': '' };
    const reportData = Buffer.alloc(64);
    createHash(source.tee === 'se' ? 'sha512' : 'sha384').update(canonicalJson(runtime)).digest().copy(reportData);
    const body: Record<string, unknown> = {
      'runtime-data': { nonce, 'tee-pubkey': teePubkey },
      'tee-evidence': { primary_evidence: await source.evidence(reportData), additional_evidence: '' },
    };
    if (initData !== undefined) body['init-data'] = { format: 'toml', body: initData };
    const attest = await this.call('POST', '/kbs/v0/attest', body);
    if (attest.status !== 200) throw await refusal('attest', attest);
    this.token = ((await attest.json()) as { token: string }).token;
    return this.token;
  }

  /** A resource of the attested session, decrypted with the session's TEE key. */
  async getResource(path: string): Promise<Buffer> {
    if (!this.privateKey) throw new CheckFailedError('kbs_not_attested', 'get-resource: attest first');
    const r = await this.call('GET', `/kbs/v0/resource/${path.replace(/^\/+/, '')}`);
    if (r.status !== 200) throw await refusal('get-resource', r);
    const jwe = (await r.json()) as FlattenedJWE;
    return Buffer.from((await flattenedDecrypt(jwe, this.privateKey)).plaintext);
  }

  private async adminToken(key: KeyObject): Promise<string> {
    return new SignJWT({}).setProtectedHeader({ alg: 'EdDSA' }).setIssuedAt().setExpirationTime('5m').sign(key);
  }

  async setResource(adminKey: KeyObject, path: string, value: Uint8Array): Promise<void> {
    const r = await this.call('POST', `/kbs/v0/resource/${path.replace(/^\/+/, '')}`, value, { authorization: `Bearer ${await this.adminToken(adminKey)}` });
    if (r.status !== 200) throw await refusal('set-resource', r);
  }

  async setResourcePolicy(adminKey: KeyObject, policyText: string): Promise<void> {
    const r = await this.call('POST', '/kbs/v0/resource-policy', { policy: Buffer.from(policyText).toString('base64') }, { authorization: `Bearer ${await this.adminToken(adminKey)}` });
    if (r.status !== 200) throw await refusal('set-resource-policy', r);
  }
}
