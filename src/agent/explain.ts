/**
 * Why was a request denied? Built on the engine's trace (no second copy of the rules): the request is
 * evaluated again with a tracer, and the trace is read as a search.
 *
 * The entry rule body usually starts by choosing a candidate from the policy data (`some p_container
 * in policy_data.containers`) and then checks the request against it. Each time the top-level body
 * backtracks to a new binding starts a new *attempt*; the attempt that got furthest (most expressions
 * that held) is the closest candidate. Its last failed expression is the failing check, and its
 * local variables are the evidence: values that occur in the request are located in it by field path
 * ("sent"), the others are what the policy allows.
 */
import type { TraceEvent } from '../rego/index.js';
import { toJson, type Json, type Value } from '../rego/value.js';
import type { PolicyEnforcer, Decision } from './enforcer.js';

export interface FailedCheck {
  /** Field path in the request, e.g. `OCI.Process.Env[3]`, when the failing value was found there. */
  path?: string;
  /** The value the request sent at that path. */
  sent?: Json;
  /** Values the policy had at hand for the comparison (from the chosen candidate). */
  allowed: Json[];
  /** The rule (full path) whose body failed, and the failing expression's source and location. */
  rule?: string;
  expression?: string;
  location?: { file: string; line: number; column: number };
  /** Name of the closest policy candidate (e.g. the container entry), when it has one. */
  candidate?: string;
  /** One line for people: `OCI.Process.Env[3] "EVIL=1" not allowed for container "app"`. */
  message: string;
}

export interface Explanation {
  decision: Decision;
  checks: FailedCheck[];
}

interface Attempt {
  /** Expressions that held in this attempt (any depth). */
  progress: number;
  lastFail?: TraceEvent;
  lastFailLocals?: Record<string, Value>;
  candidate?: string;
}

/** Every (path, value) leaf and subtree of a JSON document, for finding where a value was sent. */
function indexPaths(node: Json, path: string, out: Map<string, string[]>): void {
  const key = JSON.stringify(node);
  const list = out.get(key);
  if (list) list.push(path);
  else out.set(key, [path]);
  if (Array.isArray(node)) node.forEach((v, i) => indexPaths(v, `${path}[${i}]`, out));
  else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      const seg = /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? (path === '' ? k : `${path}.${k}`) : `${path}[${JSON.stringify(k)}]`;
      indexPaths(v, seg, out);
    }
  }
}

function isScalar(v: Json): boolean {
  return v === null || typeof v !== 'object';
}

/** Names a candidate: an object local with a `name` (or container name annotation). */
function candidateName(locals: Record<string, Value>): string | undefined {
  for (const [name, value] of Object.entries(locals)) {
    if (!name.startsWith('p_') && !name.includes('container')) continue;
    const json = toJson(value);
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
      if (typeof json.name === 'string') return json.name;
      const ann = (json.OCI as { Annotations?: Record<string, Json> } | undefined)?.Annotations;
      const n = ann?.['io.kubernetes.cri.container-name'];
      if (typeof n === 'string') return n;
    }
  }
  return undefined;
}

function describe(v: Json | undefined): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

/** Re-evaluates a denied request with tracing and names the failing checks of the closest candidate. */
export function explainDenial(enforcer: PolicyEnforcer, kind: string, request: unknown, decision: Decision): Explanation {
  if (decision.allowed) return { decision, checks: [] };
  const attempts: Attempt[] = [{ progress: 0 }];
  let entryDepth = Number.POSITIVE_INFINITY;
  let lastTopLevelExpr: TraceEvent | undefined;
  const tracer = (event: TraceEvent): void => {
    if (event.node === 'rule' && event.op === 'enter') entryDepth = Math.min(entryDepth, event.depth);
    const current = attempts[attempts.length - 1];
    if (event.node !== 'expr') return;
    if (event.depth === entryDepth && (event.op === 'redo' || event.op === 'eval')) {
      if (event.op === 'redo' && lastTopLevelExpr !== undefined && current.progress > 0) attempts.push({ progress: 0 });
      lastTopLevelExpr = event;
    }
    const attempt = attempts[attempts.length - 1];
    if (event.op === 'exit' || event.op === 'eval') attempt.progress++;
    if (event.op === 'fail') {
      attempt.lastFail = event;
      attempt.lastFailLocals = event.locals();
      if (event.depth === entryDepth || attempt.candidate === undefined) attempt.candidate ??= candidateName(attempt.lastFailLocals);
    }
  };
  // Replaying through the enforcer's engine is side-effect free: state only changes on allowed requests.
  enforcer.regoEngine.evalRule(`data.agent_policy.${kind}`, { input: request, tracer });
  const best = attempts.filter((a) => a.lastFail).sort((a, b) => b.progress - a.progress)[0];
  if (!best?.lastFail) {
    const message = decision.error ? `${kind}: ${decision.error.message}` : `${kind}: no rule of the policy matched (the default applies)`;
    return { decision, checks: [{ allowed: [], message }] };
  }
  const fail = best.lastFail;
  const locals = best.lastFailLocals ?? {};
  const requestJson = (request ?? null) as Json;
  const where = new Map<string, string[]>();
  indexPaths(requestJson, '', where);
  let path: string | undefined;
  let sent: Json | undefined;
  const allowed: Json[] = [];
  // Prefer the most specific request value: scalars first, then larger subtrees.
  const entries = Object.entries(locals).map(([name, v]) => [name, toJson(v)] as const);
  entries.sort((a, b) => Number(isScalar(b[1])) - Number(isScalar(a[1])));
  for (const [name, value] of entries) {
    const paths = where.get(JSON.stringify(value));
    const fromRequest = paths !== undefined && paths[0] !== '' && (name.startsWith('i_') || !name.startsWith('p_'));
    if (fromRequest && path === undefined) {
      path = paths[0];
      sent = value;
    } else if (!fromRequest && name.startsWith('p_') && allowed.length < 8) allowed.push(value);
  }
  const candidate = best.candidate;
  const forWhom = candidate ? ` for container ${JSON.stringify(candidate)}` : '';
  const message = path
    ? `${path} ${describe(sent)} not allowed${forWhom}`
    : `check failed${forWhom}: ${fail.text ?? 'expression'} (${fail.rule ?? kind})`;
  return {
    decision,
    checks: [{ path, sent, allowed, rule: fail.rule, expression: fail.text, location: fail.location, candidate, message }],
  };
}
