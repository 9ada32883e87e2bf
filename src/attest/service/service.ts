/**
 * The attestation service's decisions, independent of HTTP (server.ts maps routes onto these):
 *
 * - attest: verify evidence → check that REPORT_DATA binds the runtime data → appraise with the Rego
 *   policy → sign a token. Azure form: SHA-256 of the runtime data bytes = first 32 bytes of
 *   REPORT_DATA. KBS form: REPORT_DATA = H(canonical {"nonce","tee-pubkey"}) for a live, unused nonce.
 * - release: verify the token → find the secret → evaluate its release policy against the token's
 *   claims → wrap the secret (JWE) to the key named in the token's runtime data.
 *
 * Simulated evidence is refused unless the service trusts the simulator, and tokens made from it say
 * so (`x-confcom-simulated: true`); such tokens are refused for release when the service no longer
 * trusts the simulator. Every decision is logged as one line without secret material or tokens.
 */
import { createHash, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import { CompactSign, type FlattenedJWE, type JWTPayload } from 'jose';
import { appraise, defaultAppraisalPolicy, type Appraisal, type AppraisalPolicy } from '../appraisal/index.js';
import type { ReferenceValues } from '../appraisal/types.js';
import { canonicalJson } from '../kbs/canonical-json.js';
import { KbsDeniedError, KbsRequestError } from '../kbs/errors.js';
import { checkInitData, parseInitData } from '../kbs/initdata.js';
import { KBS_TEES, attestationError, parseKbsAttestation, parseKbsRequest, primaryRuntimeData, structuredReportData, type KbsTee } from '../kbs/protocol.js';
import { checkAdmin } from '../kbs/admin.js';
import { evaluateReleasePolicy, parseReleasePolicy, type ReleasePolicy } from '../kbs/release-policy.js';
import { AzureError } from '../azure/cloud-error.js';
import { maaDataClaim, parseMaaSnpRequest } from '../azure/maa.js';
import { keyWrapAlgorithm, releasePayload, runtimeWrapKey } from '../azure/skr.js';
import { resourceId, resourcePath, type ResourceId, type SecretStore } from '../kbs/secrets.js';
import { MemoryStore, type AttestationStore, type StoredSession } from '../store/index.js';
import { importWrapKey, wrapCompact, wrapFlattened, type WrapKey } from '../kbs/wrap.js';
import { tokenClaims, type RuntimeDataInput } from '../token/claims.js';
import { earClaims, tokenTeePubkey } from '../token/ear.js';
import { issueToken, verifyToken } from '../token/jwt.js';
import { SigningKeyRing } from '../token/keys.js';
import { teeOfAppraisal } from '../registry.js';
import type { Logger } from '../../core/log.js';
import { ConfcomError } from '../../core/errors.js';
import { verifyWireEvidence, teeKind, type TeeKind } from './evidence.js';
import type { AttestationServiceOptions } from './options.js';

export interface AttestResult {
  token: string;
  appraisal: Appraisal;
  expiresAtMs: number;
}

export class AttestationService {
  issuer: string;
  readonly store: AttestationStore;
  /** This instance's name in the audit log. */
  readonly replica: string;
  private readonly sessionTtlMs: number;
  readonly trustSimulator: boolean;
  private readonly tokenTtlSeconds: number;
  private readonly policy: AppraisalPolicy;
  private readonly reference: ReferenceValues;
  private readonly secrets: SecretStore | undefined;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly adminKey: KeyObject | undefined;
  private readonly tokenFormat: 'simple' | 'ear';
  private readonly collateral: AttestationServiceOptions['collateral'];

  private constructor(
    readonly keys: SigningKeyRing,
    options: AttestationServiceOptions,
  ) {
    this.issuer = options.issuer;
    this.tokenTtlSeconds = options.tokenTtlSeconds ?? 600;
    this.policy = options.policy ?? defaultAppraisalPolicy();
    this.reference = options.reference ?? {};
    this.trustSimulator = options.trustSimulator === true;
    this.secrets = options.secrets;
    this.now = options.now ?? Date.now;
    this.log = options.logger;
    this.adminKey = options.adminKey;
    this.tokenFormat = options.tokenFormat ?? 'simple';
    this.collateral = options.collateral;
    this.sessionTtlMs = options.nonceTtlMs ?? 5 * 60_000;
    this.store = options.store ?? new MemoryStore({ now: this.now });
    this.replica = options.replica ?? `${hostname()}:${process.pid}`;
  }

  static async create(options: AttestationServiceOptions): Promise<AttestationService> {
    const keys =
      options.keyRing ??
      (await SigningKeyRing.create({
        alg: options.signingAlgorithm,
        rotateAfterMs: options.keyRotationMs,
        retainAfterRetireMs: Math.max((options.tokenTtlSeconds ?? 600) * 1000, 60_000),
        now: options.now,
      }));
    return new AttestationService(keys, options);
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Verify, bind, appraise, sign. `bind` checks REPORT_DATA and returns the runtime data for the token. */
  private async attest(
    tee: TeeKind,
    evidence: unknown,
    evidencePath: string,
    bind: (reportData: Buffer, claims: Appraisal['claims']) => RuntimeDataInput | undefined,
    context: Record<string, unknown>,
    extraClaims: Record<string, unknown> = {},
  ): Promise<AttestResult> {
    const fields: Record<string, unknown> = { ...context, tee };
    try {
      const claims = await verifyWireEvidence(tee, evidence, evidencePath, { trustSimulator: this.trustSimulator, at: new Date(this.now()), collateral: this.collateral });
      const appraisal = await appraise(claims, { policy: this.policy, reference: this.reference });
      const c = appraisal.claims;
      fields.simulated = appraisal.simulated;
      Object.assign(fields, teeOfAppraisal(c).auditFields(c));
      // Belt and braces: the verifier refuses simulated evidence already unless told to trust it.
      if (appraisal.simulated && !this.trustSimulator) {
        throw new KbsDeniedError('simulated_evidence_refused', 'the evidence comes from the software TEE, which this service does not trust', 401, {
          hint: 'start the service with --trust-simulator for local testing only',
        });
      }
      const runtime = bind(Buffer.from(c.report_data, 'hex'), c);
      if (!appraisal.decision.allow) {
        throw new KbsDeniedError('appraisal_denied', `the appraisal policy refused the evidence: ${appraisal.decision.reasons.join('; ')}`, 401, {
          details: { reasons: appraisal.decision.reasons },
        });
      }
      const issued = this.tokenFormat === 'ear' ? earClaims(appraisal, runtime, extraClaims) : tokenClaims(appraisal, runtime, extraClaims);
      const token = await issueToken(this.keys, issued, {
        issuer: this.issuer,
        ttlSeconds: this.tokenTtlSeconds,
        nowSeconds: this.nowSeconds(),
      });
      this.log.info('attestation allowed', { ...fields, decision: 'allow', policy: appraisal.policy.name });
      return { token, appraisal, expiresAtMs: (this.nowSeconds() + this.tokenTtlSeconds) * 1000 };
    } catch (error) {
      this.log.warn('attestation refused', { ...fields, decision: 'deny', code: codeOf(error), reason: reasonOf(error) });
      throw error;
    }
  }

  /**
   * Azure-style attestation: `runtimeData` (base64url bytes, `dataType` JSON or Binary) whose SHA-256 the
   * TEE put in the first 32 bytes of REPORT_DATA. As in MAA, runtimeData may be left out: then nothing is
   * bound, and the token carries no runtime data (so no key can be released to it).
   */
  async attestWithRuntimeData(teeName: string, body: unknown): Promise<AttestResult> {
    const tee = teeKind(teeName);
    const b = asObject(body, '$');
    const runtime = b.runtimeData === undefined ? undefined : decodeRuntimeData(b.runtimeData);
    return this.attest(tee, b.evidence ?? b, b.evidence === undefined ? '$' : 'evidence', (reportData) => {
      if (runtime === undefined) return undefined;
      const digest = createHash('sha256').update(runtime.bytes).digest();
      if (!timingSafeEqual(digest, reportData.subarray(0, 32))) {
        throw new KbsDeniedError('runtime_data_mismatch', 'SHA-256 of the runtime data is not the first 32 bytes of REPORT_DATA', 401, {
          hint: 'send exactly the bytes whose hash the TEE put in REPORT_DATA',
        });
      }
      return runtime;
    }, { endpoint: 'attest' });
  }

  /**
   * MAA's Attest SevSnpVm (the sidecar's request form): SHA-256 of runtimeData = REPORT_DATA[0..32],
   * SHA-256 of initTimeData = HOST_DATA; the token carries x-ms-runtime, x-ms-inittime and the nonce.
   */
  async attestMaa(body: unknown): Promise<AttestResult> {
    const req = parseMaaSnpRequest(body);
    const extra: Record<string, unknown> = { 'x-ms-runtime': maaDataClaim(req.runtimeData) };
    if (req.initTimeData) extra['x-ms-inittime'] = maaDataClaim(req.initTimeData);
    if (req.nonce !== undefined) extra.nonce = req.nonce;
    return this.attest('snp', req.evidence, 'report', (reportData, claims) => {
      const digest = createHash('sha256').update(req.runtimeData.bytes).digest();
      if (!timingSafeEqual(digest, reportData.subarray(0, 32))) {
        throw new KbsDeniedError('runtime_data_mismatch', 'SHA-256 of runtimeData is not the first 32 bytes of REPORT_DATA', 401);
      }
      if (req.initTimeData) {
        const init = createHash('sha256').update(req.initTimeData.bytes).digest();
        if (claims.tee !== 'snp' || !timingSafeEqual(init, Buffer.from(claims.host_data, 'hex'))) {
          throw new KbsDeniedError('init_time_data_mismatch', 'SHA-256 of initTimeData is not HOST_DATA', 401);
        }
      }
      return { bytes: req.runtimeData.bytes, json: req.runtimeData.json };
    }, { endpoint: 'attest/SevSnpVm' }, extra);
  }

  /**
   * Key Vault secure key release: the key `keys/<name>/<version>` (in the secrets directory), released
   * when its release policy accepts the target token, as a JWS carrying the key wrapped
   * (CKM_RSA_AES_KEY_WRAP) to the token's x-ms-runtime RSA key.
   */
  async releaseKey(name: string, version: string | undefined, body: unknown): Promise<string> {
    const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
    if (typeof b.target !== 'string' || b.target === '') throw new AzureError(400, 'BadParameter', 'target: expected the attestation token');
    const enc = keyWrapAlgorithm(b.enc);
    const id = resourceId('keys', name, version ?? 'current');
    return this.releaseWith(b.target, id, 'keys/release', async (payload, secret, policy) => {
      const wrapTo = runtimeWrapKey(payload as Record<string, unknown>, typeof b.kid === 'string' ? b.kid : undefined);
      const kid = `${this.issuer.replace(/\/$/, '')}/keys/${name}/${version ?? ''}`;
      const body = releasePayload({ kid, value: secret, wrapTo, enc, policyText: JSON.stringify(policy ?? {}) }, this.nowSeconds());
      if (typeof b.nonce === 'string') (body.request as Record<string, unknown>).nonce = b.nonce;
      const key = await this.keys.signingKey();
      return new CompactSign(Buffer.from(JSON.stringify(body))).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(key.privateKey);
    });
  }

  /** KBS `/auth`: a new session (with its own expiry) and its challenge. */
  async kbsAuth(body: unknown): Promise<StoredSession> {
    const tee = parseKbsRequest(body);
    const now = this.now();
    const session: StoredSession = {
      id: randomBytes(24).toString('base64url'),
      nonce: randomBytes(32).toString('base64'),
      tee,
      createdAtMs: now,
      expiresAtMs: now + this.sessionTtlMs,
    };
    await this.store.putSession(session);
    this.log.info('kbs challenge issued', { endpoint: 'kbs/auth', tee, session: sessionTag(session.id) });
    return session;
  }

  /** The live session a cookie names, or undefined. */
  async kbsSession(sessionId: string | undefined): Promise<StoredSession | undefined> {
    return sessionId === undefined || sessionId === '' ? undefined : this.store.getSession(sessionId);
  }

  /**
   * KBS `/attest`: an attested session answers with its token (as trustee does); otherwise the
   * challenge nonce is burnt (once, on every replica), the primary evidence verified against the
   * runtime data trustee builds, init-data checked against HOST_DATA, and the session stores the token.
   */
  async kbsAttest(sessionId: string | undefined, body: unknown): Promise<{ token: string; expiresAtMs: number; session: StoredSession; reused: boolean }> {
    const context = { endpoint: 'kbs/attest', session: sessionId === undefined ? undefined : sessionTag(sessionId) };
    const refuse = (code: string, message: string): never => {
      this.log.warn('attestation refused', { ...context, decision: 'deny', code });
      throw attestationError(code, message, 'request a new challenge from /kbs/v0/auth');
    };
    if (sessionId === undefined || sessionId === '') return refuse('cookie_not_found', 'cookie not found');
    const session = await this.store.getSession(sessionId);
    if (!session) return refuse('unknown_session', 'no live session for this cookie (unknown or expired)');
    const attestation = parseKbsAttestation(body);
    if (session.token !== undefined) {
      return { token: session.token, expiresAtMs: session.expiresAtMs, session, reused: true };
    }
    if (attestation.nonce !== session.nonce) {
      return refuse('nonce_mismatch', "the nonce in the handshake session is different from the client side in KBS protocol's Attestation message");
    }
    if (!(await this.store.burnNonce(session.nonce, Math.max(1, session.expiresAtMs - this.now())))) {
      return refuse('nonce_replayed', 'the challenge nonce was already answered; nonces are single-use');
    }
    const verifier = KBS_TEES[session.tee as KbsTee];
    if (verifier === undefined) {
      return refuse('tee_unsupported', `evidence of TEE '${session.tee}' cannot be verified by this service (it verifies ${Object.keys(KBS_TEES).filter((t) => KBS_TEES[t as KbsTee] !== undefined).join(', ')})`);
    }
    if (attestation.additionalEvidence !== '' && attestation.additionalEvidence !== '{}') {
      return refuse('additional_evidence_unsupported', 'additional evidence was sent, and this service verifies primary evidence only');
    }
    await importWrapKey(attestation.teePubkey, 'runtime-data.tee-pubkey'); // refuse unusable keys before verification work
    const init = attestation.initData === undefined ? undefined : parseInitData(attestation.initData.format, attestation.initData.body);
    const runtime = primaryRuntimeData(attestation);
    const extra: Record<string, unknown> = { 'tee-pubkey': attestation.teePubkey };
    if (init) Object.assign(extra, { init_data: init.digest, init_data_claims: init.data });
    const result = await this.attest(
      verifier,
      attestation.primaryEvidence,
      'tee-evidence.primary_evidence',
      (reportData, claims) => {
        if (!timingSafeEqual(structuredReportData(runtime, session.tee), reportData)) {
          throw attestationError('report_data_mismatch', "REPORT_DATA does not bind this session's runtime data", 'REPORT_DATA must be SHA-384 of the JCS form of {"tee-pubkey","nonce","additional-evidence"}, zero-padded to 64 bytes');
        }
        if (init) {
          if (claims.tee !== 'snp') throw attestationError('init_data_unsupported', 'init-data is checked for SEV-SNP (HOST_DATA) only');
          checkInitData(init, Buffer.from(claims.host_data, 'hex'));
        }
        return { bytes: Buffer.from(canonicalJson(runtime)), json: runtime };
      },
      context,
      extra,
    );
    const attested: StoredSession = { ...session, token: result.token, teePubkey: attestation.teePubkey, expiresAtMs: result.expiresAtMs };
    await this.store.putSession(attested);
    return { token: result.token, expiresAtMs: result.expiresAtMs, session: attested, reused: false };
  }

  /** Admin requests: the bearer must be an EdDSA JWT from the admin key. */
  async kbsAdmin(bearerToken: string | undefined): Promise<void> {
    try {
      await checkAdmin(this.adminKey, bearerToken, this.nowSeconds());
    } catch (error) {
      this.log.warn('admin request refused', { endpoint: 'kbs/admin', decision: 'deny', code: codeOf(error) });
      throw error;
    }
  }

  async setResource(id: ResourceId, value: Uint8Array): Promise<void> {
    if (!this.secrets) throw new KbsRequestError('no_secret_store', 'the service has no secrets directory to write to', { hint: 'start it with --secrets DIR' });
    await this.secrets.put(id, value);
    this.log.info('resource set', { endpoint: 'kbs/admin', resource: resourcePath(id), bytes: value.length });
  }

  /** `{"policy": base64}` as trustee's admin API sends it; the policy is our release policy (Azure JSON form). */
  async setResourcePolicy(body: unknown): Promise<void> {
    if (!this.secrets) throw new KbsRequestError('no_secret_store', 'the service has no secrets directory to write to', { hint: 'start it with --secrets DIR' });
    const b = asObject(body, '$');
    if (typeof b.policy !== 'string') throw new KbsRequestError('policy_invalid', 'policy: expected base64 text', { location: { path: 'policy' } });
    const text = Buffer.from(b.policy, b.policy.includes('-') || b.policy.includes('_') ? 'base64url' : 'base64').toString('utf8');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new KbsRequestError('policy_invalid', 'policy: the decoded policy is not JSON (this service takes release policies in the Azure JSON form)', { location: { path: 'policy' } });
    }
    const policy = parseReleasePolicy(doc, 'resource-policy');
    await this.secrets.putPolicy(policy, JSON.stringify(doc, null, 2) + '\n');
    this.log.info('resource policy set', { endpoint: 'kbs/admin' });
  }

  /** Verifies a token issued by this service; simulated tokens only while the simulator is trusted. */
  async verify(token: string): Promise<JWTPayload> {
    const payload = await verifyToken(this.keys, token, { issuer: this.issuer, nowSeconds: this.nowSeconds() });
    if (payload['x-confcom-simulated'] !== false && !this.trustSimulator) {
      throw new KbsDeniedError('simulated_token_refused', 'the token was made from simulated evidence and this service does not trust the simulator', 403);
    }
    return payload;
  }

  /** Secure key release: the secret as a compact JWE to the key in the token's runtime data. */
  async release(token: string | undefined, id: ResourceId, kid?: string): Promise<string> {
    return this.releaseWith(token, id, 'release', async (payload, secret) => wrapCompact(secret, await releaseKey(payload, kid)));
  }

  /** KBS resource: the secret as a flattened JWE to the token's tee-pubkey (session cookie or Bearer token). */
  async kbsResource(sessionId: string | undefined, bearer: string | undefined, id: ResourceId): Promise<FlattenedJWE> {
    let token = bearer;
    if (token === undefined) {
      const session = await this.kbsSession(sessionId);
      if (!session?.token) {
        this.log.warn('release refused', { endpoint: 'kbs/resource', resource: resourcePath(id), decision: 'deny', code: 'token_not_found' });
        throw new KbsDeniedError('token_not_found', 'Attestation Token not found (no attested session and no bearer token)', 401, {
          hint: 'attest through /kbs/v0/auth and /kbs/v0/attest first',
        });
      }
      token = session.token;
    }
    return this.releaseWith(token, id, 'kbs/resource', async (payload, secret) => {
      const key = tokenTeePubkey(payload);
      if (key === undefined) throw new KbsDeniedError('no_tee_pubkey', 'the token names no tee-pubkey to encrypt to', 401);
      return wrapFlattened(secret, await importWrapKey(key, 'token.tee-pubkey'));
    });
  }

  private async releaseWith<T>(
    token: string | undefined,
    id: ResourceId,
    endpoint: string,
    wrap: (payload: JWTPayload, secret: Uint8Array, policy: ReleasePolicy | undefined) => Promise<T>,
  ): Promise<T> {
    const fields: Record<string, unknown> = { endpoint, resource: resourcePath(id) };
    try {
      if (token === undefined || token === '') throw new KbsDeniedError('token_not_found', 'Attestation Token not found', 401);
      const payload = await this.verify(token);
      fields.jti = payload.jti;
      fields.simulated = payload['x-confcom-simulated'];
      if (!this.secrets) throw new KbsDeniedError('resource_not_found', `no resource ${resourcePath(id)} (the service has no secrets)`, 404);
      const secret = await this.secrets.get(id);
      if (!secret) throw new KbsDeniedError('resource_not_found', `no resource ${resourcePath(id)}`, 404);
      fields.source = secret.source;
      if (!secret.policy) {
        throw new KbsDeniedError('no_release_policy', `resource ${resourcePath(id)} has no release policy, so it is never released`, 403, {
          hint: 'add release-policy.json to the secrets directory (or a .release-policy.json beside the secret)',
        });
      }
      const decision = evaluateReleasePolicy(secret.policy, payload as Record<string, unknown>);
      if (!decision.allow) {
        throw new KbsDeniedError('release_denied', `the release policy refused ${resourcePath(id)}: ${decision.reasons.join('; ')}`, 403, {
          details: { reasons: decision.reasons },
        });
      }
      const wrapped = await wrap(payload, secret.value, secret.policy);
      await this.store.appendAudit({
        atMs: this.now(), resource: resourcePath(id), endpoint, replica: this.replica,
        jti: typeof payload.jti === 'string' ? payload.jti : undefined,
        tee: typeof payload['x-ms-attestation-type'] === 'string' ? payload['x-ms-attestation-type'] : undefined,
        simulated: payload['x-confcom-simulated'] === true,
      });
      this.log.info('release allowed', { ...fields, decision: 'allow', bytes: secret.value.length });
      return wrapped;
    } catch (error) {
      this.log.warn('release refused', { ...fields, decision: 'deny', code: codeOf(error), reason: reasonOf(error) });
      throw error;
    }
  }
}

/** The key to wrap a released secret to: `x-ms-runtime.keys[]` (by kid, else the first encryption key) or the KBS `tee-pubkey`. */
async function releaseKey(payload: JWTPayload, kid: string | undefined): Promise<WrapKey> {
  const runtime = payload['x-ms-runtime'];
  const candidates: unknown[] = [];
  if (typeof runtime === 'object' && runtime !== null) {
    const r = runtime as Record<string, unknown>;
    if (Array.isArray(r.keys)) candidates.push(...r.keys);
    if (r['tee-pubkey'] !== undefined) candidates.push(r['tee-pubkey']);
  }
  const usable = candidates.filter((k): k is Record<string, unknown> => {
    if (typeof k !== 'object' || k === null) return false;
    const key = k as Record<string, unknown>;
    if (kid !== undefined) return key.kid === kid;
    const ops = key.key_ops;
    return key.use === undefined || key.use === 'enc' ? !Array.isArray(ops) || ops.includes('encrypt') || ops.includes('wrapKey') : false;
  });
  if (usable.length === 0) {
    throw new KbsDeniedError('no_release_key', kid === undefined ? 'the token\'s runtime data holds no encryption key' : `the token's runtime data has no key with kid '${kid.slice(0, 64)}'`, 403, {
      hint: 'put the TEE\'s public key in the runtime data as {"keys":[<JWK>]} before attesting',
    });
  }
  return importWrapKey(usable[0], 'x-ms-runtime.keys');
}

function decodeRuntimeData(raw: unknown): RuntimeDataInput {
  const r = asObject(raw, 'runtimeData');
  if (typeof r.data !== 'string' || !/^[A-Za-z0-9_-]*={0,2}$/.test(r.data)) {
    throw new KbsRequestError('runtime_data_invalid', 'runtimeData.data: expected base64url bytes', { location: { path: 'runtimeData.data' } });
  }
  const bytes = Buffer.from(r.data, 'base64url');
  const dataType = r.dataType ?? 'Binary';
  if (dataType === 'Binary') return { bytes };
  if (dataType !== 'JSON') throw new KbsRequestError('runtime_data_invalid', "runtimeData.dataType: expected 'JSON' or 'Binary'", { location: { path: 'runtimeData.dataType' } });
  try {
    return { bytes, json: JSON.parse(bytes.toString('utf8')) as unknown };
  } catch {
    throw new KbsRequestError('runtime_data_invalid', 'runtimeData.data: dataType is JSON but the bytes are not JSON', { location: { path: 'runtimeData.data' } });
  }
}

function asObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new KbsRequestError('request_invalid', `${path}: expected a JSON object`, { location: { path } });
  }
  return value as Record<string, unknown>;
}

/** A short, non-secret tag of a session id for logs (the id itself is a bearer credential). */
function sessionTag(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 12);
}

function codeOf(error: unknown): string {
  return error instanceof ConfcomError ? error.code : 'internal';
}

function reasonOf(error: unknown): string {
  return error instanceof ConfcomError ? error.message : 'internal error';
}
