/**
 * Why was a request denied? Built on the engine's trace (no second copy of the rules).
 *
 * The denied request is evaluated again with a tracer and the events are folded into a tree: rule
 * bodies contain the expressions they evaluated, and an expression contains the rule bodies it called.
 * Every failed expression with no failed expression below it is a candidate root cause. The one that
 * got furthest through the policy wins: candidates are compared by the source positions of their
 * ancestors, outermost first, so a check deep inside the closest policy container beats a guard that
 * failed early for another container. Its local variables are the evidence: values that occur in the
 * request are located by field path ("sent"); `p_`-prefixed values come from the policy ("allowed").
 */
import type { TraceEvent } from '../rego/index.js';
import { toJson, type Json, type Value } from '../rego/value.js';
import type { PolicyEnforcer, Decision } from './enforcer.js';

export interface FailedCheck {
  /** Field path in the request, e.g. `OCI.Process.Env[3]`, when the failing value was found there. */
  path?: string;
  /** The value the request sent at that path. */
  sent?: Json;
  /** Values the policy had at hand for the comparison. */
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

interface BodyNode {
  kind: 'body';
  exprs: ExprNode[];
  parent?: ExprNode;
}
interface ExprNode {
  kind: 'expr';
  event: TraceEvent;
  locals?: Record<string, Value>;
  failed: boolean;
  bodies: BodyNode[];
  parent: BodyNode;
}

/** Folds trace events into the body/expression tree. */
function buildTree(events: (TraceEvent & { snapshot?: Record<string, Value> })[]): BodyNode {
  const root: BodyNode = { kind: 'body', exprs: [] };
  const stack: (BodyNode | ExprNode)[] = [root];
  const top = () => stack[stack.length - 1];
  const currentBody = (): BodyNode => {
    const t = top();
    if (t.kind === 'body') return t;
    // expressions evaluated inside an expression without a rule call (every, comprehensions)
    const implicit: BodyNode = { kind: 'body', exprs: [], parent: t };
    t.bodies.push(implicit);
    stack.push(implicit);
    return implicit;
  };
  const sameExpr = (a: TraceEvent, b: TraceEvent) => a.location.line === b.location.line && a.location.column === b.location.column && a.location.file === b.location.file;
  for (const e of events) {
    if (e.node === 'rule' && e.op === 'enter') {
      // A rule body is entered from the expression being evaluated: finished bodies are closed.
      while (stack.length > 1 && top().kind === 'body') stack.pop();
      const t = top();
      const body: BodyNode = { kind: 'body', exprs: [], parent: t.kind === 'expr' ? t : undefined };
      if (t.kind === 'expr') t.bodies.push(body);
      else t.exprs.push({ kind: 'expr', event: e, failed: false, bodies: [body], parent: t });
      stack.push(body);
      continue;
    }
    if (e.node !== 'expr') continue;
    if (e.op === 'eval' || e.op === 'redo') {
      if (e.op === 'redo') {
        // backtracking into an earlier expression: unwind to its body
        while (stack.length > 1 && !(top().kind === 'body' && (top() as BodyNode).exprs.some((x) => sameExpr(x.event, e)))) stack.pop();
      }
      const body = currentBody();
      const node: ExprNode = { kind: 'expr', event: e, failed: false, bodies: [], parent: body };
      body.exprs.push(node);
      // A redo is the expression succeeding again (the next candidate): it does not stay open.
      if (e.op === 'eval') stack.push(node);
      continue;
    }
    // exit or fail: close the innermost open node for this expression
    let idx = stack.length - 1;
    while (idx > 0 && !(stack[idx].kind === 'expr' && sameExpr((stack[idx] as ExprNode).event, e))) idx--;
    if (idx === 0) continue;
    const node = stack[idx] as ExprNode;
    if (e.op === 'fail') {
      node.failed = true;
      node.locals = e.snapshot;
    }
    stack.length = idx;
  }
  return root;
}

/**
 * How far evaluation got: for the node and each ancestor, outermost first, how many expressions of
 * its rule body came before it (all of which succeeded). Positions in the file say nothing across
 * bodies: a rule that failed at its first guard must not beat one that failed at its fifth check.
 */
function progressKey(node: ExprNode): [number, number][] {
  const key: [number, number][] = [];
  for (let n: ExprNode | undefined = node; n; n = n.parent.parent) key.unshift([distinctBefore(n), n.event.location.column]);
  return key;
}

/**
 * Expressions of the body that precede this one in the source (a body runs in source order, so they
 * all succeeded on this pass); one evaluated again for the next candidate (a redo) counts once.
 */
function distinctBefore(node: ExprNode): number {
  const at = node.event.location;
  const seen = new Set<string>();
  for (const e of node.parent.exprs) {
    if (e === node) break;
    const l = e.event.location;
    if (l.file === at.file && (l.line < at.line || (l.line === at.line && l.column < at.column))) seen.add(`${l.line}:${l.column}`);
  }
  return seen.size;
}

function compareKeys(a: [number, number][], b: [number, number][]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i][0] !== b[i][0]) return a[i][0] - b[i][0];
    if (a[i][1] !== b[i][1]) return a[i][1] - b[i][1];
  }
  return a.length - b.length;
}

/**
 * Failed expressions with no failed expression below them, whose failure propagated: every expression
 * above them failed too (a failure that another rule body rescued is not a cause).
 */
function failedLeaves(body: BodyNode, out: ExprNode[], top = true): void {
  for (const expr of body.exprs) {
    if (!top && !expr.failed) continue;
    const before = out.length;
    for (const b of expr.bodies) failedLeaves(b, out, top && !expr.failed && expr.event.node === 'rule');
    if (expr.failed && out.length === before) out.push(expr);
  }
}

/** JSON text with sorted object keys, so equal values compare equal whatever their key order. */
function stableJson(v: Json): string {
  if (Array.isArray(v)) return '[' + v.map(stableJson).join(',') + ']';
  if (typeof v === 'object' && v !== null) return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + stableJson(v[k])).join(',') + '}';
  return JSON.stringify(v);
}

/** Every (path, value) of a JSON document, plus space-joined string arrays (exec commands are compared joined). */
function indexPaths(node: Json, path: string, out: Map<string, string[]>): void {
  const add = (key: string) => {
    const list = out.get(key);
    if (list) list.push(path);
    else out.set(key, [path]);
  };
  add(stableJson(node));
  if (Array.isArray(node)) {
    if (node.length > 0 && node.every((v) => typeof v === 'string')) add(JSON.stringify(node.join(' ')));
    node.forEach((v, i) => indexPaths(v, `${path}[${i}]`, out));
  } else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      const seg = /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? (path === '' ? k : `${path}.${k}`) : `${path}[${JSON.stringify(k)}]`;
      indexPaths(v, seg, out);
    }
  }
}

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

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/g;

/** Re-evaluates a denied request with tracing and names the failing check of the closest candidate. */
export function explainDenial(enforcer: PolicyEnforcer, kind: string, request: unknown, decision: Decision): Explanation {
  if (decision.allowed) return { decision, checks: [] };
  const events: (TraceEvent & { snapshot?: Record<string, Value> })[] = [];
  const tracer = (event: TraceEvent): void => {
    events.push(event.op === 'fail' ? { ...event, snapshot: event.locals() } : event);
  };
  try {
    // Side-effect free: state only changes for allowed requests.
    enforcer.regoEngine.evalRule(`data.agent_policy.${kind}`, { input: request, tracer });
  } catch {
    /* the error itself is in the decision */
  }
  const leaves: ExprNode[] = [];
  failedLeaves(buildTree(events), leaves);
  if (leaves.length === 0) {
    const message = decision.error ? `${kind}: ${decision.error.message}` : `${kind}: no rule of the policy matched (the default applies)`;
    return { decision, checks: [{ allowed: [], message }] };
  }
  const best = leaves.reduce((a, b) => (compareKeys(progressKey(b), progressKey(a)) > 0 ? b : a));
  const locals = best.locals ?? {};
  const mentioned = new Set(best.event.text?.match(IDENT) ?? []);
  const where = new Map<string, string[]>();
  indexPaths((request ?? null) as Json, '', where);
  // Evidence: request values among the locals, preferring the variables the failing expression
  // mentions, then the most specific field path (an env entry beats the whole process).
  let path: string | undefined;
  let sent: Json | undefined;
  let bestScore = -1;
  const allowed: Json[] = [];
  for (const name of Object.keys(locals)) {
    const value = toJson(locals[name]);
    if (name.startsWith('p_')) {
      if (mentioned.has(name) && allowed.length < 8) allowed.push(value);
      continue;
    }
    const paths = where.get(stableJson(value));
    if (!paths || paths[0] === '' || !(mentioned.has(name) || name.startsWith('i_'))) continue;
    const candidatePath = paths[paths.length - 1];
    const score = (mentioned.has(name) ? 1000 : 0) + candidatePath.split(/[.[]/).length;
    if (score > bestScore) {
      bestScore = score;
      path = candidatePath;
      sent = value;
    }
  }
  let candidate: string | undefined;
  for (let n: ExprNode | undefined = best; n && !candidate; n = n.parent.parent) candidate = n.locals ? candidateName(n.locals) : undefined;
  candidate ??= candidateName(locals);
  const forWhom = candidate ? ` for container ${JSON.stringify(candidate)}` : '';
  const message = path
    ? `${path} ${JSON.stringify(sent)} not allowed${forWhom}`
    : `check failed${forWhom}: ${best.event.text ?? 'expression'} (${best.event.rule ?? kind})`;
  return {
    decision,
    checks: [{ path, sent, allowed, rule: best.event.rule, expression: best.event.text, location: best.event.location, candidate, message }],
  };
}
