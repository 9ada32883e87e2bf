/**
 * The appraisal's view of evidence: every claim of an SEV-SNP report or SGX quote, flattened to JSON
 * (hex strings for byte fields, numbers for integers, booleans for flags, snake_case names) so that a
 * Rego policy can read it as `input.claims`. `normalize.ts` builds it from the verifier's claims.
 */
import type { RegisteredAppraisalClaims, TeeName } from '../registry.js';

export interface SnpTcb {
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
  /** Turin and later: the FMC SPL (absent on Milan/Genoa). */
  fmc?: number;
  /** The u64 as 16 hex digits (big-endian value). */
  raw?: string;
}

export interface SnpGuestPolicy {
  /** The 64-bit policy as hex (0x...). */
  raw: string;
  abi_major: number;
  abi_minor: number;
  smt: boolean;
  migration_agent: boolean;
  debug: boolean;
  single_socket: boolean;
}

export interface SnpAppraisalClaims {
  tee: 'snp';
  simulated: boolean;
  version: number;
  guest_svn: number;
  policy: SnpGuestPolicy;
  /** 'Milan' | 'Genoa' | 'Turin' */
  product: string;
  /** Which key signed the report: 'vcek' or 'vlek'. */
  signing_key: string;
  family_id: string;
  image_id: string;
  vmpl: number;
  current_tcb: SnpTcb;
  reported_tcb: SnpTcb;
  committed_tcb: SnpTcb;
  launch_tcb: SnpTcb;
  platform_info: { smt_enabled: boolean; tsme_enabled: boolean; raw: string };
  report_data: string;
  measurement: string;
  host_data: string;
  id_key_digest: string;
  author_key_digest: string;
  report_id: string;
  chip_id: string;
  /** What the verifier concluded about the TCB (e.g. 'UpToDate'), when it knows. */
  tcb_status?: string;
}

export interface SgxAppraisalClaims {
  tee: 'sgx';
  simulated: boolean;
  mrenclave: string;
  mrsigner: string;
  isvprodid: number;
  isvsvn: number;
  report_data: string;
  debug: boolean;
  attributes: string;
  quote_version: number;
  fmspc: string;
  config_id?: string;
  config_svn?: number;
  isv_ext_prod_id?: string;
  isv_family_id?: string;
  /** Platform TCB status from the TCB info (e.g. 'UpToDate', 'SWHardeningNeeded'). */
  tcb_status?: string;
  advisory_ids: string[];
  /** The quoting enclave's TCB status (QE identity). */
  qe_tcb_status?: string;
}

/** Every kind's appraisal claims, derived from the TEE registry (each module's `normalize`). */
export type AppraisalClaims = RegisteredAppraisalClaims;

/** Reference values the appraisal policy compares claims against (`--reference FILE`). */
export interface ReferenceValues {
  snp?: {
    /** Allowed launch measurements (hex, 48 bytes). */
    measurements?: string[];
    /** Allowed HOST_DATA values (hex, 32 bytes): the policy hashes printed by `confcom policy hash`. */
    host_data?: string[];
    min_tcb?: Partial<SnpTcb>;
    min_guest_svn?: number;
    /** Highest VMPL accepted (default 0: only the most privileged level). */
    max_vmpl?: number;
    allow_debug?: boolean;
    allow_migration_agent?: boolean;
  };
  sgx?: {
    mrenclave?: string[];
    mrsigner?: string[];
    isvprodid?: number;
    min_isvsvn?: number;
    allow_debug?: boolean;
    /** Accepted platform TCB statuses (default: UpToDate only). */
    tcb_status?: string[];
  };
  tdx?: {
    /** Allowed MRTD values (hex, 48 bytes). */
    mr_td?: string[];
    allow_debug?: boolean;
    /** Accepted TCB statuses, converged with the TDX module's (default: UpToDate only). */
    tcb_status?: string[];
    /** Accept quotes verified with collateral that had no CRLs. */
    allow_unchecked_revocation?: boolean;
  };
}

export interface AppraisalDecision {
  allow: boolean;
  /** Why the policy said no (empty when allowed). */
  reasons: string[];
}

export interface Appraisal {
  tee: TeeName;
  simulated: boolean;
  claims: AppraisalClaims;
  reference: ReferenceValues;
  decision: AppraisalDecision;
  /** Which policy decided: 'default' or the file name, and the SHA-256 of its text. */
  policy: { name: string; sha256: string };
}
