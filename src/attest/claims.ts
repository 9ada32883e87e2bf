/**
 * The facts a verified piece of hardware evidence proves, in one shape per TEE kind. Verification
 * (src/attest/verify.ts) produces these; appraisal, tokens and the key broker consume them. Every byte
 * field is lower-case hex; nothing here is secret.
 */
import { CheckFailedError, InputError, type ConfcomErrorOptions } from '../core/errors.js';
import type { RegisteredClaims } from './registry.js';

/** An AMD TCB_VERSION (a little-endian u64 of per-component security version numbers). */
export interface TcbVersion {
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
  /** Turin only: the FMC (firmware microcontroller) SVN. */
  fmc?: number;
  /** 16 hex chars: the u64 value in big-endian hex (so `4405000000000002` for microcode 0x44, SNP 5, bootloader 2). */
  raw: string;
}

export interface SnpPolicy {
  /** The u64 guest policy as 16 hex chars (value, big-endian hex). */
  raw: string;
  debug: boolean;
  migrateMa: boolean;
  smt: boolean;
  singleSocket: boolean;
  abiMajor: number;
  abiMinor: number;
}

export interface SnpClaims {
  tee: 'snp';
  /** True only when the evidence came from the software TEE (src/attest/sim) and the caller trusted it. */
  simulated: boolean;
  product: 'Milan' | 'Genoa' | 'Turin';
  signingKey: 'vcek' | 'vlek';
  version: number;
  guestSvn: number;
  policy: SnpPolicy;
  vmpl: number;
  familyId: string;
  imageId: string;
  measurement: string;
  hostData: string;
  reportData: string;
  idKeyDigest: string;
  authorKeyDigest: string;
  reportId: string;
  chipId: string;
  currentTcb: TcbVersion;
  reportedTcb: TcbVersion;
  committedTcb: TcbVersion;
  launchTcb: TcbVersion;
  /** PLATFORM_INFO u64 as 16 hex chars (value, big-endian hex). */
  platformInfo: string;
}

export interface SgxClaims {
  tee: 'sgx';
  simulated: boolean;
  quoteVersion: number;
  mrenclave: string;
  mrsigner: string;
  isvProdId: number;
  isvSvn: number;
  attributes: string;
  debug: boolean;
  reportData: string;
  fmspc: string;
  /** The TCB status (`UpToDate`, `SWHardeningNeeded`, ...): the platform's from the TCB info, converged with the QE identity's. */
  tcbStatus: string;
  /** The platform's TCB level status alone, before the QE identity's is folded in. */
  platformTcbStatus: string;
  advisoryIds: string[];
  /** The quoting enclave's TCB status from the QE identity collateral. */
  qeTcbStatus: string;
}

/** Every verifier's claims, one shape per registered TEE (src/attest/registry.ts); `tee` tells them apart. */
export type EvidenceClaims = RegisteredClaims;

/** Verification said no: a bad signature, an untrusted chain, a mismatch. Exit 1. */
export class AttestationError extends CheckFailedError {
  constructor(code: string, message: string, options: Omit<ConfcomErrorOptions, 'exitCode'> = {}) {
    super(code, message, options);
  }
}

/** The evidence or collateral cannot be read at all (wrong size, bad JSON, bad PEM). Exit 2. */
export class EvidenceFormatError extends InputError {}
