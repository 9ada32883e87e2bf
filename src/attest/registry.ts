/**
 * The TEE registry: every kind of evidence confcom understands, one module each under
 * `src/attest/<kind>/index.ts`. A module says how to recognise its evidence (raw bytes or JSON), how
 * to verify it into claims, how to normalise those claims for appraisal, how to summarise them, and
 * what TCB status they carry. Nothing else in src/attest switches over kinds: adding a TEE is one new
 * folder and one line in TEE_MODULES.
 *
 * The claims' `tee` field holds the module's `name` (the one TEE field name everywhere: verifier
 * claims, appraisal claims, KBS sessions).
 */
import { azSnpVtpm } from './az-snp-vtpm/index.js';
import { sgx } from './sgx/index.js';
import { snp } from './snp/index.js';

/** What every verifier's claims carry, whatever the kind. */
export interface BaseClaims {
  tee: string;
  /** True only when the evidence came from the software TEE (src/attest/sim) and the caller trusted it. */
  simulated: boolean;
  /** REPORT_DATA (lower-case hex): where the evidence binds a caller's nonce or key. */
  reportData: string;
}

export interface TeeVerifyOptions {
  /** The time at which certificates and collateral must be valid (default: now). */
  at?: Date;
  /** Certificates handed in with the evidence (DER or PEM). Roots among them are never trusted. */
  certs?: Buffer[];
  /** Collateral (SGX/TDX TCB info, QE identity, CRLs) as an object, JSON text or Buffer. */
  collateral?: unknown;
  /** CRLs (DER, PEM or hex of DER). */
  crls?: Buffer[];
  /** Accept evidence signed by the software TEE (tests and local mode only). */
  trustSimulator?: boolean;
}

/** Evidence found inside a JSON document: the bytes to verify and the options the document adds. */
export interface JsonEvidence {
  bytes: Buffer;
  options: TeeVerifyOptions;
}

/**
 * TCB status in Intel's vocabulary (the union AMD's and Intel's verifiers can express). Kinds without
 * a status service (SEV-SNP: the VCEK is issued per TCB) report `UpToDate` once the chain verifies.
 */
export type TcbStatus = string;

/** What every appraisal view carries (snake_case below this). */
export interface BaseAppraisalClaims {
  tee: string;
  simulated: boolean;
  /** What the verifier concluded about the platform TCB (e.g. 'UpToDate'), when it knows. */
  tcb_status?: string;
}

/** Runtime data a token carries: the exact bytes whose hash the TEE bound, and their JSON when JSON. */
export interface RuntimeDataInput {
  bytes: Uint8Array;
  json?: unknown;
}

export interface TeeModule<C extends BaseClaims = BaseClaims, A extends BaseAppraisalClaims = BaseAppraisalClaims> {
  /** The TEE field's value (`snp`, `sgx`, ...). */
  readonly name: C['tee'];
  /** Other names protocols use for it (KBS `tee` values, Azure attestation types). */
  readonly aliases: readonly string[];
  /** A phrase for messages: `SEV-SNP report`, `SGX quote`. */
  readonly what: string;
  /** True when raw bytes look like this kind's evidence (cheap header checks only). */
  sniff(bytes: Buffer): boolean;
  /** Evidence inside a JSON document (the fields the kind's hosts use), or undefined when not this kind. */
  fromJson(doc: Record<string, unknown>, decode: (value: unknown, path: string) => Buffer): JsonEvidence | undefined;
  verify(bytes: Buffer, options: TeeVerifyOptions): C | Promise<C>;
  /** The appraisal's snake_case view of the claims (input.claims of a Rego policy). */
  normalize(claims: C): A;
  /** Lines for `attest verify` without --json. */
  summary(claims: C): string[];
  /** The TCB statuses the verifier established (platform first, then e.g. the quoting enclave's). */
  tcbStatus(claims: C): TcbStatus[];
  /** The kind's token claims (MAA names where MAA has them) from an allowed appraisal's claims. */
  tokenClaims(claims: A, runtime: RuntimeDataInput | undefined): Record<string, unknown>;
  /** The few identifying claims the service's audit log line carries (nothing secret). */
  auditFields(claims: A): Record<string, unknown>;
}

/** The registry. Order matters only for sniffing raw bytes: the first module that claims them wins. */
const TEE_MODULES = [
  sgx,
  snp,
  azSnpVtpm,
] as const;

type Registered = (typeof TEE_MODULES)[number];
type ClaimsOf<M> = M extends TeeModule<infer C, infer _A> ? C : never;
type AppraisalOf<M> = M extends TeeModule<infer _C, infer A> ? A : never;
/** Every verifier claims shape, derived from the registry. */
export type RegisteredClaims = ClaimsOf<Registered>;
/** Every appraisal claims shape, derived from the registry. */
export type RegisteredAppraisalClaims = AppraisalOf<Registered>;
export type TeeName = Registered['name'];

// One cast, here: each module is called only with claims whose `tee` is its own name.
const modules = TEE_MODULES as readonly TeeModule[];

export function teeModules(): readonly TeeModule[] {
  return modules;
}

/** The module whose `name` is the `tee` of appraisal claims (they only come from the modules above). */
export function teeOfAppraisal(claims: BaseAppraisalClaims): TeeModule {
  return teeOf({ tee: claims.tee, simulated: claims.simulated, reportData: '' });
}

/** The module for a TEE name or alias, or undefined. */
export function findTee(name: string): TeeModule | undefined {
  return modules.find((m) => m.name === name || m.aliases.includes(name));
}

/** The module that produced these claims (verifier claims carry its name in `tee`). */
export function teeOf(claims: BaseClaims): TeeModule {
  const module = findTee(claims.tee);
  // Claims only come from the modules above; anything else is a programming error.
  if (!module) throw new TypeError(`no TEE module named '${claims.tee}'`);
  return module;
}

export function sniffTee(bytes: Buffer): TeeModule | undefined {
  return modules.find((m) => m.sniff(bytes));
}
