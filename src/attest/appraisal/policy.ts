/**
 * Running an appraisal policy: a Rego module (package `confcom.appraisal`) evaluated by confcom's own
 * engine over `{claims, reference}`. The decision fails closed: `allow` must be exactly `true` and the
 * `deny` set empty; an undefined `allow`, an evaluation error or a timeout is a denial with a reason.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../core/errors.js';
import { readInputText } from '../../core/fs.js';
import { RegoEngine, toJson } from '../../rego/index.js';
import type { AppraisalDecision } from './types.js';

export const APPRAISAL_PACKAGE = 'data.confcom.appraisal';

export interface AppraisalPolicy {
  name: string;
  text: string;
  sha256: string;
}

const DEFAULT_POLICY_FILE = fileURLToPath(new URL('./default.rego', import.meta.url));
let defaultPolicy: AppraisalPolicy | undefined;

function policyOf(name: string, text: string): AppraisalPolicy {
  return { name, text, sha256: createHash('sha256').update(text, 'utf8').digest('hex') };
}

/** The default policy shipped next to this module (debug off, minimum TCB, reference lists). */
export function defaultAppraisalPolicy(): AppraisalPolicy {
  defaultPolicy ??= policyOf('default', readFileSync(DEFAULT_POLICY_FILE, 'utf8'));
  return defaultPolicy;
}

/** Reads a policy file and checks that it compiles, so a broken policy is found at start-up. */
export async function loadAppraisalPolicy(file: string): Promise<AppraisalPolicy> {
  const policy = policyOf(file, await readInputText(file));
  compile(policy);
  return policy;
}

export function appraisalPolicyFromText(text: string, name = 'inline'): AppraisalPolicy {
  const policy = policyOf(name, text);
  compile(policy);
  return policy;
}

function compile(policy: AppraisalPolicy): RegoEngine {
  const engine = new RegoEngine({ limits: { timeoutMs: 2000 } });
  try {
    engine.addModule(policy.text, policy.name, { syntax: 'v1' });
  } catch (v1Error) {
    try {
      engine.addModule(policy.text, policy.name, { syntax: 'v0' });
    } catch {
      const error = v1Error as { message?: string; location?: { line?: number; column?: number } };
      throw new InputError('appraisal_policy_invalid', `appraisal policy ${policy.name} does not compile: ${error.message ?? String(v1Error)}`, {
        location: { file: policy.name, line: error.location?.line, column: error.location?.column },
        hint: `the policy must be Rego defining ${APPRAISAL_PACKAGE}.allow (and optionally a deny set of reasons)`,
      });
    }
  }
  return engine;
}

/** Evaluates the policy over the input; never throws for policy problems (they are denials). */
export function decide(policy: AppraisalPolicy, input: unknown): AppraisalDecision {
  let engine: RegoEngine;
  try {
    engine = compile(policy);
  } catch (error) {
    return { allow: false, reasons: [(error as Error).message] };
  }
  try {
    const allow = engine.evalRule(`${APPRAISAL_PACKAGE}.allow`, { input }).value;
    const deny = engine.evalRule(`${APPRAISAL_PACKAGE}.deny`, { input }).value;
    const denyJson = deny === undefined ? [] : toJson(deny);
    const reasons = Array.isArray(denyJson) ? denyJson.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))) : [JSON.stringify(denyJson)];
    if (allow === undefined) reasons.push(`the policy does not define ${APPRAISAL_PACKAGE}.allow for this input`);
    else if (allow !== true) {
      if (reasons.length === 0) reasons.push('the policy did not allow this evidence');
    }
    return { allow: allow === true && reasons.length === 0, reasons: reasons.sort() };
  } catch (error) {
    return { allow: false, reasons: [`the appraisal policy failed: ${(error as Error).message}`] };
  }
}
