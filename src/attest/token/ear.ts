/**
 * EAR attestation results (draft-ietf-rats-ear), the token form trustee's attestation service issues:
 *
 *   {"eat_profile": "tag:github.com,2023:veraison/ear", "ear.verifier-id": {developer, build},
 *    "submods": {"cpu0": {"ear.status": "affirming", "ear.trustworthiness-vector": {...},
 *                         "ear.appraisal-policy-id": ..., "ear.veraison.annotated-evidence": {<tee>: claims,
 *                         "runtime_data_claims": <runtime data>, "init_data"?, "init_data_claims"?},
 *                         "ear.veraison.policy-claims": {...}}}}
 *
 * A token is only issued for an appraisal that passed, so the status is "affirming". The TEE key sits
 * where trustee's KBS looks for it: submods.cpu0["ear.veraison.annotated-evidence"].runtime_data_claims
 * ["tee-pubkey"]. `x-confcom-simulated` stays top-level, so simulated evidence is visible in either form.
 */
import type { Appraisal } from '../appraisal/types.js';
import type { RuntimeDataInput } from './claims.js';

export const EAR_PROFILE = 'tag:github.com,2023:veraison/ear';
export const EAR_TEE_PUBKEY_PATH = ['submods', 'cpu0', 'ear.veraison.annotated-evidence', 'runtime_data_claims', 'tee-pubkey'] as const;

/** Trustworthiness claims (EAR's AR4SI vector): 2 = affirming in each appraised category. */
const AFFIRMING = { configuration: 2, executables: 2, hardware: 2 };

export function earClaims(appraisal: Appraisal, runtime: RuntimeDataInput | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { init_data, init_data_claims, ...rest } = extra;
  const annotated: Record<string, unknown> = { [appraisal.tee]: appraisal.claims };
  if (runtime?.json !== undefined) annotated.runtime_data_claims = runtime.json;
  if (init_data !== undefined) annotated.init_data = init_data;
  if (init_data_claims !== undefined) annotated.init_data_claims = init_data_claims;
  return {
    eat_profile: EAR_PROFILE,
    'ear.verifier-id': { developer: 'https://github.com/confcom', build: 'confcom attestation service' },
    submods: {
      cpu0: {
        'ear.status': 'affirming',
        'ear.trustworthiness-vector': AFFIRMING,
        'ear.appraisal-policy-id': appraisal.policy.name,
        'ear.veraison.annotated-evidence': annotated,
        'ear.veraison.policy-claims': { policy_sha256: appraisal.policy.sha256 },
      },
    },
    'x-confcom-simulated': appraisal.simulated,
    ...Object.fromEntries(Object.entries(rest).filter(([k]) => k !== 'tee-pubkey')),
  };
}

/** The TEE key of a token in either form. */
export function tokenTeePubkey(payload: Record<string, unknown>): unknown {
  if (payload['tee-pubkey'] !== undefined) return payload['tee-pubkey'];
  let cur: unknown = payload;
  for (const part of EAR_TEE_PUBKEY_PATH) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}
