/** What the attestation service is configured with (the CLI builds this from its flags). */
import type { KeyObject } from 'node:crypto';
import type { Logger } from '../../core/log.js';
import type { AppraisalPolicy } from '../appraisal/policy.js';
import type { CollateralSources } from '../collateral/index.js';
import type { ReferenceValues } from '../appraisal/types.js';
import type { SecretStore } from '../kbs/secrets.js';
import type { AttestationStore } from '../store/types.js';
import type { SigningAlgorithm, SigningKeyRing } from '../token/keys.js';

export interface AttestationServiceOptions {
  /** The `iss` of issued tokens and the authority release policies name. Can be changed after listen(). */
  issuer: string;
  /** Token claims: Azure-style (`simple`, default) or EAR (`ear`, as trustee's attestation service issues). */
  tokenFormat?: 'simple' | 'ear';
  /** Token lifetime (default 600 s). */
  tokenTtlSeconds?: number;
  /** Signing algorithm of a generated key ring (default ES256). */
  signingAlgorithm?: SigningAlgorithm;
  /** Rotate signing keys after this long (default 24 h). */
  keyRotationMs?: number;
  /** A ready key ring (tests share one to check rotation); generated when absent. */
  keyRing?: SigningKeyRing;
  /** Appraisal policy (default: the shipped default policy). */
  policy?: AppraisalPolicy;
  reference?: ReferenceValues;
  /** Accept evidence signed by confcom's software TEE (INSECURE: for tests and laptops only). */
  trustSimulator?: boolean;
  /** Fetch the collateral evidence lacks (PCS/PCCS, KDS) through a cache, and verify at `now` with it. */
  collateral?: CollateralSources;
  /** Secrets for the key broker and key release; without it those endpoints answer 404. */
  secrets?: SecretStore;
  /** Sessions, nonces and the release audit log (default: in memory, this process only). */
  store?: AttestationStore;
  /** This instance's name in the audit log (default host:pid). */
  replica?: string;
  /** How long a KBS session (and its challenge nonce) lives before attestation (default 5 min). */
  nonceTtlMs?: number;
  /** The admin's Ed25519 public key; without it the admin API refuses every request. */
  adminKey?: KeyObject;
  /** Request body limit (default 1 MiB). */
  maxBodyBytes?: number;
  /** Clock in milliseconds (tests move it to expire nonces and tokens). */
  now?: () => number;
  /** Where decisions are logged (one structured line each, never secret material). */
  logger: Logger;
}
