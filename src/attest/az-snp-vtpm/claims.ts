/** What verified Azure vTPM evidence proves: the SNP report's claims plus the vTPM's quoted state. */
import type { SnpClaims } from '../claims.js';

export interface AzSnpVtpmClaims {
  tee: 'az-snp-vtpm';
  simulated: boolean;
  /** The TPM quote's extraData (the caller's nonce), zero-padded to 64 bytes: what runtime data binds to. */
  reportData: string;
  /** The TPM quote's extraData as sent. */
  nonce: string;
  /** Quoted SHA-256 PCRs by index. */
  pcrs: Record<string, string>;
  /** The HCL runtime data (keys, vm-configuration, user-data), vouched for by REPORT_DATA. */
  runtimeData: Record<string, unknown>;
  snp: SnpClaims;
}

export interface AzSnpVtpmAppraisalClaims {
  tee: 'az-snp-vtpm';
  simulated: boolean;
  report_data: string;
  nonce: string;
  pcrs: Record<string, string>;
  vm_configuration: unknown;
  user_data: unknown;
  snp: import('../appraisal/types.js').SnpAppraisalClaims;
  tcb_status?: string;
}
