/**
 * The verifier's claims (camelCase, src/attest/claims.ts) to the appraisal's input (snake_case JSON,
 * ./types.ts): the names a Rego policy reads as `input.claims`. Each TEE module does its own kind
 * (src/attest/<kind>/normalize.ts); already-normalised claims pass through unchanged.
 */
import type { EvidenceClaims } from '../claims.js';
import { teeOf } from '../registry.js';
import type { AppraisalClaims } from './types.js';

/** Verifier claims carry camelCase `reportData`; the appraisal view has snake_case `report_data`. */
function isNormalized(claims: EvidenceClaims | AppraisalClaims): claims is AppraisalClaims {
  return !('reportData' in claims);
}

export function normalizeClaims(claims: EvidenceClaims | AppraisalClaims): AppraisalClaims {
  if (isNormalized(claims)) return claims;
  return teeOf(claims).normalize(claims) as AppraisalClaims;
}
