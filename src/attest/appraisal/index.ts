/**
 * Appraisal: the verifier's claims plus reference values, judged by a Rego policy (the default one in
 * `default.rego`, or the user's). The result carries every claim and the decision with its reasons;
 * tokens are only issued for allowed appraisals.
 */
import type { EvidenceClaims } from '../claims.js';
import { normalizeClaims } from './normalize.js';
import { decide, defaultAppraisalPolicy, appraisalPolicyFromText, type AppraisalPolicy } from './policy.js';
import type { Appraisal, AppraisalClaims, ReferenceValues } from './types.js';

export * from './types.js';
export { normalizeClaims } from './normalize.js';
export { parseReferenceValues, loadReferenceValues } from './reference.js';
export { defaultAppraisalPolicy, loadAppraisalPolicy, appraisalPolicyFromText, APPRAISAL_PACKAGE, type AppraisalPolicy } from './policy.js';

export interface AppraiseOptions {
  /** A loaded policy, or Rego text; default: the shipped default policy. */
  policy?: AppraisalPolicy | string;
  reference?: ReferenceValues;
}

/** Judges verified evidence. Never throws for a policy problem: that is a denial with a reason. */
export async function appraise(claims: EvidenceClaims | AppraisalClaims, options: AppraiseOptions = {}): Promise<Appraisal> {
  const normalized = normalizeClaims(claims);
  const policy = options.policy === undefined ? defaultAppraisalPolicy() : typeof options.policy === 'string' ? appraisalPolicyFromText(options.policy) : options.policy;
  const reference = options.reference ?? {};
  const decision = decide(policy, { claims: normalized, reference });
  return {
    tee: normalized.tee,
    simulated: normalized.simulated,
    claims: normalized,
    reference,
    decision,
    policy: { name: policy.name, sha256: policy.sha256 },
  };
}
