/**
 * The Kata agent's policy decision point, on our Rego engine.
 *
 * Semantics follow the agent (kata-containers src/agent/src/policy.rs), with the fail-closed reading
 * that confcom promises:
 *   - the engine starts with `data = {"pstate": {}}`, strict builtin errors off, prints gathered;
 *   - a request is decided by the value of `data.agent_policy.<RequestName>` with the request as input;
 *   - exactly one value must result: a boolean is the decision; an object `{allowed, ops}` is a decision
 *     plus a JSON Patch applied to the state only when allowed (paths must stay under /pstate);
 *   - evaluation errors, conflicts, an undefined result, a timeout, any other value: deny, reported as an
 *     internal error; unless the policy's `AllowRequestsFailingPolicy` is true, in which case denials and
 *     errors are allowed (the agent's debug switch) and the decision says so loudly;
 *   - SetPolicyRequest is first decided by the current policy; then, when a HOST_DATA value is
 *     configured, SHA-256 of the new policy text must equal it; then the new policy must load. Only then
 *     does it replace the current one (with a fresh state).
 *   - with no policy set, the default policy allows only SetPolicyRequest.
 */
import { createHash } from 'node:crypto';
import { RegoEngine, type EngineOptions, type SyntaxVersion, type Tracer } from '../rego/index.js';
import { RegoError } from '../rego/errors.js';
import { RObject, toJson, type Json, type Value } from '../rego/value.js';
import { ConfcomError, InputError } from '../core/errors.js';
import { log as defaultLog, type Logger } from '../core/log.js';
import { applyJsonPatch, asPatchOperations, JsonPatchError } from './json-patch.js';
import { ALLOW_FAILURES_ENTRY } from './kinds.js';

export const POLICY_PACKAGE = 'agent_policy';
export const POLICY_MODULE_NAME = 'agent_policy.rego';

/** The policy in force before any SetPolicy: only SetPolicyRequest is allowed. */
export const DEFAULT_POLICY_TEXT = `package ${POLICY_PACKAGE}

# Until a policy is set, the agent accepts nothing but a SetPolicyRequest.
default SetPolicyRequest := true
`;

export type PolicySyntax = SyntaxVersion | 'auto';

export interface EnforcerOptions {
  /** Rego syntax of the policy text; 'auto' (default) tries v1, then v0. */
  syntax?: PolicySyntax;
  /** Expected SHA-256 (hex) of policies set by SetPolicyRequest, as bound in the TEE's HOST_DATA. */
  hostData?: string;
  engine?: EngineOptions;
  logger?: Logger;
}

export type DecisionReason =
  /** The policy's value decided. */
  | 'policy'
  /** Evaluation failed (error, conflict, undefined, timeout, bad value): denied. */
  | 'error'
  /** The policy denied or failed, but AllowRequestsFailingPolicy let it through. */
  | 'allow_failures'
  /** SetPolicy refused: the new policy's hash does not match HOST_DATA. */
  | 'host_data_mismatch'
  /** SetPolicy refused: the new policy does not load. */
  | 'invalid_policy';

export interface Decision {
  kind: string;
  allowed: boolean;
  reason: DecisionReason;
  /** The entry point's value as JSON (undefined when it was undefined or errored). */
  value?: Json;
  /** Print output of the evaluation; formatted when first read (most decisions never read it). */
  prints: string[];
  error?: { code: string; message: string };
  /** The agent's wording: `<kind> is blocked by policy: <prints>` or `<kind>: internal error <e>`. */
  message?: string;
  /** Whether the decision changed the policy state. */
  stateChanged: boolean;
}

const ENTRY_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Print lines, produced on demand. */
type PrintReader = () => string[];
const NO_PRINTS: PrintReader = () => [];

/**
 * A decision whose `prints` is formatted only when read. Kata policies print on almost every step;
 * formatting every line of every allowed decision cost ~40% of decide() while only denials (their
 * message) and explanations read them. A class, not a per-object accessor (defineProperty or a getter
 * in a literal): V8 keeps such an accessor in a hidden class of its own, in old space, which keeps the
 * decision's whole evaluation alive through minor GCs and made them the p99 of a decision.
 */
class LazyDecision implements Decision {
  readonly kind: string;
  allowed: boolean;
  reason: DecisionReason;
  value?: Json;
  error?: { code: string; message: string };
  message?: string;
  stateChanged: boolean;
  #lines: string[] | undefined;
  readonly #read: PrintReader;

  constructor(fields: Omit<Decision, 'prints'>, read: PrintReader) {
    this.kind = fields.kind;
    this.allowed = fields.allowed;
    this.reason = fields.reason;
    if ('value' in fields) this.value = fields.value;
    if (fields.error !== undefined) this.error = fields.error;
    if (fields.message !== undefined) this.message = fields.message;
    this.stateChanged = fields.stateChanged;
    this.#read = read;
  }

  get prints(): string[] {
    return (this.#lines ??= this.#read());
  }

  set prints(lines: string[]) {
    this.#lines = lines;
  }

  /** As JSON (and for anyone who copies the fields), prints is a field like the others. */
  toJSON(): Decision {
    return { kind: this.kind, allowed: this.allowed, reason: this.reason, value: this.value, prints: this.prints, error: this.error, message: this.message, stateChanged: this.stateChanged };
  }
}

function withPrints(decision: Omit<Decision, 'prints'>, read: PrintReader): Decision {
  return new LazyDecision(decision, read);
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Loads policy text into a fresh engine, trying v1 then v0 syntax for 'auto'. */
export function loadPolicyEngine(text: string, syntax: PolicySyntax, options: EngineOptions = {}, fileName = POLICY_MODULE_NAME): { engine: RegoEngine; syntax: SyntaxVersion } {
  const tries: SyntaxVersion[] = syntax === 'auto' ? ['v1', 'v0'] : [syntax];
  let firstError: unknown;
  for (const version of tries) {
    const engine = new RegoEngine({ strictBuiltinErrors: false, ...options });
    try {
      engine.addModule(text, fileName, { syntax: version });
      engine.setData({ pstate: {} });
      return { engine, syntax: version };
    } catch (error) {
      firstError ??= error;
    }
  }
  throw firstError;
}

export class PolicyEnforcer {
  private engine: RegoEngine;
  private text: string;
  private syntaxUsed: SyntaxVersion;
  private allowFailuresFlag = false;
  private pstate: Json = {};
  private readonly options: EnforcerOptions;
  private readonly logger: Logger;

  private constructor(text: string, options: EnforcerOptions) {
    this.options = options;
    this.logger = options.logger ?? defaultLog;
    const loaded = loadPolicyEngine(text, options.syntax ?? 'auto', options.engine);
    this.engine = loaded.engine;
    this.syntaxUsed = loaded.syntax;
    this.text = text;
    this.readAllowFailuresFlag();
  }

  /** An enforcer for the given policy text; throws the parse/compile error (with location) if it does not load. */
  static fromText(text: string, options: EnforcerOptions = {}): PolicyEnforcer {
    return new PolicyEnforcer(text, options);
  }

  /** An enforcer in the agent's initial state: only SetPolicyRequest is allowed. */
  static withDefaultPolicy(options: EnforcerOptions = {}): PolicyEnforcer {
    return new PolicyEnforcer(DEFAULT_POLICY_TEXT, { ...options, syntax: 'v1' });
  }

  get policyText(): string {
    return this.text;
  }
  get syntax(): SyntaxVersion {
    return this.syntaxUsed;
  }
  /** SHA-256 (hex) of the policy text in force: what HOST_DATA binds. */
  get policyHash(): string {
    return sha256Hex(this.text);
  }
  get allowFailures(): boolean {
    return this.allowFailuresFlag;
  }
  /** The policy state (`data.pstate`). */
  get state(): Json {
    return structuredClone(this.pstate);
  }
  /** The engine holding the policy (read-only use: explanations trace through it). */
  get regoEngine(): RegoEngine {
    return this.engine;
  }

  /** Decides one request as the agent would. Never throws for policy failures: they are denials. */
  decide(kind: string, request: unknown, options: { tracer?: Tracer } = {}): Decision {
    if (!ENTRY_NAME.test(kind)) {
      throw new InputError('agent_unknown_kind', `'${kind}' is not a request kind`, {
        hint: 'use a protobuf request name such as CreateContainerRequest (see `confcom policy replay --help`)',
      });
    }
    if (kind === 'SetPolicyRequest') return this.setPolicy(request);
    return this.evaluate(kind, request, options.tracer);
  }

  private evaluate(kind: string, request: unknown, tracer?: Tracer): Decision {
    let value: Value | undefined;
    let prints: PrintReader = NO_PRINTS;
    try {
      const result = this.engine.evalRule(`data.${POLICY_PACKAGE}.${kind}`, { input: request, tracer });
      value = result.value;
      prints = () => result.prints;
    } catch (error) {
      return this.failed(kind, prints, error);
    }
    if (value === undefined) {
      return this.failed(kind, prints, new ConfcomError('agent_undefined_result', `no value for data.${POLICY_PACKAGE}.${kind} (no rule and no default)`));
    }
    if (typeof value === 'boolean') return this.decided(kind, value, value, prints, false);
    if (value instanceof RObject && typeof value.get('allowed') === 'boolean') {
      const allowed = value.get('allowed') as boolean;
      const json = toJson(value);
      if (!allowed) return this.decided(kind, false, json, prints, false);
      const opsValue = value.get('ops');
      if (opsValue === undefined || opsValue === null) return this.decided(kind, true, json, prints, false);
      const ops = asPatchOperations(toJson(opsValue));
      if (!ops) return this.failed(kind, prints, new ConfcomError('agent_bad_ops', `'ops' of ${kind} is not a JSON Patch`), json);
      // Under /pstate means /pstate itself or below it ('/pstateX' is outside); json-patch.ts refuses
      // __proto__-like segments, so nothing under /pstate reaches Object.prototype.
      const under = (p: string) => p === '/pstate' || p.startsWith('/pstate/');
      const outside = ops.find((op) => !under(op.path) || (op.from !== undefined && !under(op.from)));
      if (outside) {
        return this.failed(kind, prints, new ConfcomError('agent_bad_ops', `'ops' of ${kind} patches '${outside.path}' outside /pstate`), json);
      }
      try {
        const data = applyJsonPatch({ pstate: this.pstate }, ops) as { pstate?: Json };
        this.pstate = data.pstate ?? {};
        this.engine.putData(['pstate'], this.pstate);
      } catch (error) {
        const message = error instanceof JsonPatchError ? error.message : String(error);
        return this.failed(kind, prints, new ConfcomError('agent_bad_ops', `cannot apply 'ops' of ${kind}: ${message}`), json);
      }
      return this.decided(kind, true, json, prints, true);
    }
    return this.failed(kind, prints, new ConfcomError('agent_bad_result', `data.${POLICY_PACKAGE}.${kind} is neither a boolean nor {allowed, ops}`), toJson(value));
  }

  private decided(kind: string, allowed: boolean, value: Json, prints: PrintReader, stateChanged: boolean): Decision {
    if (!allowed && this.allowFailuresFlag && kind !== ALLOW_FAILURES_ENTRY) {
      this.logger.warn(`INSECURE: ${kind} was denied by the policy but AllowRequestsFailingPolicy lets it through`);
      return withPrints({ kind, allowed: true, reason: 'allow_failures', value, stateChanged, message: `${kind} is blocked by policy: ${prints().join(' ')} (allowed: AllowRequestsFailingPolicy is true)` }, prints);
    }
    const decision = withPrints({ kind, allowed, reason: 'policy', value, stateChanged }, prints);
    if (!allowed) decision.message = `${kind} is blocked by policy: ${decision.prints.join(' ')}`;
    return decision;
  }

  private failed(kind: string, prints: PrintReader, error: unknown, value?: Json): Decision {
    const code = error instanceof ConfcomError ? error.code : error instanceof RegoError ? error.regoCode : 'internal';
    const message = error instanceof Error ? error.message : String(error);
    if (this.allowFailuresFlag && kind !== ALLOW_FAILURES_ENTRY) {
      this.logger.warn(`INSECURE: ${kind} failed policy evaluation (${code}) but AllowRequestsFailingPolicy lets it through`);
      return withPrints({ kind, allowed: true, reason: 'allow_failures', value, stateChanged: false, error: { code, message }, message: `${kind}: internal error ${message} (allowed: AllowRequestsFailingPolicy is true)` }, prints);
    }
    return withPrints({ kind, allowed: false, reason: 'error', value, stateChanged: false, error: { code, message }, message: `${kind}: internal error ${message}` }, prints);
  }

  private readAllowFailuresFlag(): void {
    this.allowFailuresFlag = false;
    const decision = this.evaluate(ALLOW_FAILURES_ENTRY, {});
    this.allowFailuresFlag = decision.value === true;
    if (this.allowFailuresFlag) {
      this.logger.warn('INSECURE: the policy sets AllowRequestsFailingPolicy: denied and failing requests will be allowed');
    }
  }

  private setPolicy(request: unknown): Decision {
    const kind = 'SetPolicyRequest';
    const gate = this.evaluate(kind, request);
    if (!gate.allowed) return gate;
    const policy = (request as { policy?: unknown } | null)?.policy;
    if (typeof policy !== 'string') {
      const failed = this.failed(kind, () => gate.prints, new ConfcomError('agent_bad_request', 'SetPolicyRequest has no string field "policy"'));
      failed.allowed = false;
      failed.reason = 'error';
      return failed;
    }
    const expected = this.options.hostData?.toLowerCase();
    if (expected !== undefined) {
      const actual = sha256Hex(policy);
      if (actual !== expected) {
        return {
          kind,
          allowed: false,
          reason: 'host_data_mismatch',
          prints: gate.prints,
          stateChanged: false,
          error: { code: 'agent_host_data_mismatch', message: `SHA-256 of the new policy is ${actual}, HOST_DATA is ${expected}` },
          message: `${kind} is blocked: the policy's SHA-256 does not match HOST_DATA`,
        };
      }
    }
    let loaded: { engine: RegoEngine; syntax: SyntaxVersion };
    try {
      loaded = loadPolicyEngine(policy, this.options.syntax ?? 'auto', this.options.engine);
    } catch (error) {
      const code = error instanceof ConfcomError ? error.code : 'internal';
      const message = error instanceof Error ? error.message : String(error);
      return { kind, allowed: false, reason: 'invalid_policy', prints: gate.prints, stateChanged: false, error: { code, message }, message: `${kind}: the new policy does not load: ${message}` };
    }
    this.engine = loaded.engine;
    this.syntaxUsed = loaded.syntax;
    this.text = policy;
    this.pstate = {};
    this.readAllowFailuresFlag();
    gate.stateChanged = true;
    return gate;
  }
}
