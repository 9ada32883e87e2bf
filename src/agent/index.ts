/** Kata agent policy enforcement: the decision point, replay, explanations and the OPA-compatible server. */
export { PolicyEnforcer, DEFAULT_POLICY_TEXT, loadPolicyEngine, type Decision, type DecisionReason, type EnforcerOptions, type PolicySyntax } from './enforcer.js';
export { REQUEST_KINDS, ALLOW_FAILURES_ENTRY, findRequestKind, type RequestKind } from './kinds.js';
export { replay, parseRecordedRequests, type RecordedRequest, type ReplayOutcome } from './replay.js';
export { explainDenial, type Explanation, type FailedCheck } from './explain.js';
export { applyJsonPatch, type PatchOperation } from './json-patch.js';
export { createOpaServer, type OpaServerOptions } from './server/opa-server.js';
export { DecisionLog, redact } from './server/decision-log.js';
