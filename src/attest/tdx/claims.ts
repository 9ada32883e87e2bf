/** What a verified TDX quote proves (verifier claims, camelCase hex) and its appraisal view (snake_case). */

export interface TdxClaims {
  tee: 'tdx';
  simulated: boolean;
  quoteVersion: number;
  /** 'TD1.0' or 'TD1.5' (v5 body type 3). */
  body: 'TD1.0' | 'TD1.5';
  teeTcbSvn: string;
  mrSeam: string;
  mrSignerSeam: string;
  seamAttributes: string;
  tdAttributes: string;
  xfam: string;
  mrTd: string;
  mrConfigId: string;
  mrOwner: string;
  mrOwnerConfig: string;
  rtmrs: string[];
  reportData: string;
  /** TD_ATTRIBUTES bit 0 (DEBUG): the host can read and change the TD's memory. */
  debug: boolean;
  mrServiceTd?: string;
  fmspc: string;
  /** The TCB status Intel's QVL reports: the platform's, converged with the TDX module's and the TD QE's. */
  tcbStatus: string;
  /** The platform's TCB level status alone (SGX and TDX components), before the others are folded in. */
  platformTcbStatus: string;
  /** The TDX module identity's status (TDX_<major> in the TCB info), when the module has one. */
  tdxModuleTcbStatus?: string;
  advisoryIds: string[];
  qeTcbStatus: string;
  /** False only when the collateral carried no CRLs and the caller allowed that. */
  revocationChecked: boolean;
}

export interface TdxAppraisalClaims {
  tee: 'tdx';
  simulated: boolean;
  quote_version: number;
  body: string;
  tee_tcb_svn: string;
  mr_seam: string;
  mr_signer_seam: string;
  seam_attributes: string;
  td_attributes: string;
  xfam: string;
  mr_td: string;
  mr_config_id: string;
  mr_owner: string;
  mr_owner_config: string;
  rtmr0: string;
  rtmr1: string;
  rtmr2: string;
  rtmr3: string;
  report_data: string;
  debug: boolean;
  mr_service_td?: string;
  fmspc: string;
  tcb_status: string;
  tdx_module_tcb_status?: string;
  advisory_ids: string[];
  qe_tcb_status: string;
  revocation_checked: boolean;
}
