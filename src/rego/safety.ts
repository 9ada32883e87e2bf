/**
 * Safety and statement order, as OPA's compiler does them (ast/compile.go: checkSafetyRuleHeads,
 * checkSafetyRuleBodies, reorderBodyForSafety): every variable of a body must be bound ("safe") before an
 * expression reads it, and a body is reordered so that it is. Expressions are taken in source order,
 * pass after pass, as soon as their input variables are safe; the variables they bind become safe. What
 * never becomes safe is `var x is unsafe` at the first expression that reads it, OPA's
 * rego_unsafe_var_error.
 *
 * OPA runs this after rewriting the syntax tree (calls nested in terms lifted into their own expressions,
 * rule names resolved to data refs, `_` to generated variables, `some x in xs` to `x = xs[_]`); here the
 * same rules are applied to the parsed tree directly:
 * - an expression's inputs are its variables except the call names and what sits in closures
 *   (comprehensions, `every` bodies, `print` operands and template parts, which OPA evaluates in
 *   comprehensions of their own); a closure's variables that the body also uses must be bound before it;
 * - its outputs: variables in the path of a ref whose head is safe; the output operand of a call with
 *   one more operand than the function's arity, once the other operands are safe; what unification binds;
 *   nothing for `not` or when a `with` value is unsafe;
 * - globals are `input`, `data`, import aliases, the package's rule names and function arguments, unless
 *   a body declares the name itself (`:=`, `some`);
 * - a rule head's variables must occur in its body; head terms that need evaluating (refs, calls,
 *   comprehensions) are checked as an expression after the body, which is where the evaluator reads them.
 *
 * The result is the order each body is evaluated in, kept per compiled policy (BodyOrders), so the
 * evaluator never orders at run time.
 */
import type { Expr, Loc, Rule, Term } from './ast.js';
import { keyOf } from './value.js';
import { someChild } from './walk.js';

/** An unsafe variable at the expression that reads it; no name: an expression unsafe only through `_`. */
export interface UnsafeVar {
  name?: string;
  loc: Loc;
}

/** What the safety check needs to know about names, for one module (or a query). */
export interface SafetyEnv {
  /** Names bound before any body runs: `input`, `data`, import aliases, the package's rule names. */
  isGlobal(name: string): boolean;
  /** The number of input operands of the function a call names, or -1 when no operand is an output (unknown or variadic). */
  arity(fn: readonly string[]): number;
  /** Does the path name a function (a `with` value that replaces a function is a name, not variables)? */
  isFunction(path: readonly string[]): boolean;
}

/** The evaluation order of each body whose safe order differs from its source order, keyed by the parsed body. */
export type BodyOrders = WeakMap<readonly Expr[], readonly Expr[]>;

/** OPA's message for an unsafe variable (with its hint for future keywords used without their import). */
export function unsafeMessage(u: UnsafeVar): string {
  if (u.name === undefined) return 'expression is unsafe';
  if (FUTURE_KEYWORDS.has(u.name)) return `var ${u.name} is unsafe (hint: \`import future.keywords.${u.name}\` to import a future keyword)`;
  return `var ${u.name} is unsafe`;
}

const FUTURE_KEYWORDS = new Set(['in', 'every', 'contains', 'if']);

/**
 * Orders one body (a query, or a rule body whose arguments are `bound`) and the bodies nested in it,
 * recording each order that differs from the source in `orders`. Returns the body's order and its unsafe
 * variables, first by location.
 */
export function orderBody(body: readonly Expr[], env: SafetyEnv, orders?: BodyOrders, bound: Iterable<string> = []): { body: readonly Expr[]; unsafe: UnsafeVar[] } {
  const scope = new Scope(env, new Set(bound), new Set()).inner(declaredNames(body));
  const result = new Orderer(env, orders ?? new WeakMap()).order(body, [], scope);
  return { body: result.ordered, unsafe: report(result.unsafe) };
}

/**
 * OPA's two safety stages for one rule and its else branches: head variables that the body never
 * mentions (at the rule), then unsafe variables of the bodies (at the expression). Orders go to `orders`.
 */
export function ruleSafety(rule: Rule, env: SafetyEnv, orders: BodyOrders): { heads: UnsafeVar[]; bodies: UnsafeVar[] } {
  const heads: UnsafeVar[] = [];
  const bodies: UnsafeVar[] = [];
  if (rule.isDefault) return { heads, bodies };
  const args = new Set<string>();
  for (const a of rule.head.args ?? []) termVars(a, ALL, args);
  const headTerms: (Term | undefined)[] = [...rule.head.ref.slice(1), rule.head.key, rule.head.value];
  const branches = [{ terms: headTerms, body: rule.body, loc: rule.loc }, ...rule.elses.map((e) => ({ terms: [e.value], body: e.body, loc: e.loc }))];
  const orderer = new Orderer(env, orders);
  for (const branch of branches) {
    const scope = new Scope(env, args, new Set()).inner(declaredNames(branch.body));
    const present = new Set(args);
    for (const e of branch.body) for (const v of orderer.view(e).vars) present.add(v);
    // A global name in the head is a ref to a document (OPA resolves it), evaluated like any ref.
    const isRef = (n: string): boolean => !args.has(n) && scope.isGlobal(n);
    const lifted: Expr[] = [];
    for (const t of branch.terms) {
      if (!t) continue;
      if (requiresEval(t, isRef)) {
        lifted.push(orderer.lift(t));
        continue;
      }
      const vars = new Set<string>();
      termVars(t, ALL, vars);
      for (const v of vars) if (!present.has(v) && !isGenerated(v)) heads.push({ name: v, loc: branch.loc });
    }
    bodies.push(...report(orderer.order(branch.body, lifted, scope).unsafe));
  }
  return { heads: sortByLoc(heads), bodies };
}

// ---------- names ----------

/** `_` occurrences are distinct generated variables (OPA's `$0`, `$1`, ...): named once per term. */
const wildcardNames = new WeakMap<Term, string>();
let wildcardCount = 0;

function varName(t: Extract<Term, { type: 'var' }>): string {
  if (t.name !== '_') return t.name;
  let name = wildcardNames.get(t);
  if (!name) {
    name = `$_${wildcardCount++}`;
    wildcardNames.set(t, name);
  }
  return name;
}

/** Generated variables (wildcards, lifted head terms) are never reported by name, as in OPA. */
function isGenerated(name: string): boolean {
  return name.startsWith('$');
}

/** The names a body declares for itself (`x := ...`, `some x`, `some x in xs`): locals even where a rule has the name. */
export function declaredNames(body: readonly Expr[]): ReadonlySet<string> {
  let out = declaredCache.get(body);
  if (!out) {
    const names = new Set<string>();
    for (const e of body) declaredBy(e, names);
    out = names.size === 0 ? NO_NAMES : names;
    declaredCache.set(body, out);
  }
  return out;
}

const declaredCache = new WeakMap<readonly Expr[], ReadonlySet<string>>();
const NO_NAMES: ReadonlySet<string> = new Set();

function declaredBy(e: Expr, out: Set<string>): void {
  if (e.kind === 'assign') patternNames(e.lhs, out);
  else if (e.kind === 'some') {
    for (const v of e.vars) if (v !== '_') out.add(v);
  } else if (e.kind === 'somein') {
    patternNames(e.key, out);
    patternNames(e.value, out);
  }
}

function patternNames(t: Term | undefined, out: Set<string>): void {
  if (!t) return;
  if (t.type === 'var') {
    if (t.name !== '_') out.add(t.name);
  } else if (t.type === 'array') for (const i of t.items) patternNames(i, out);
  else if (t.type === 'object') for (const [, v] of t.entries) patternNames(v, out);
}

/** Which names are safe before a body runs: variables bound outside it, then the environment's globals unless shadowed. */
class Scope {
  constructor(
    private readonly env: SafetyEnv,
    readonly bound: ReadonlySet<string>,
    private readonly shadowed: ReadonlySet<string>,
  ) {}
  isGlobal(name: string): boolean {
    return this.bound.has(name) || (!this.shadowed.has(name) && this.env.isGlobal(name));
  }
  /** The scope of a body that declares `declared` itself and may also read `extra` from outside. */
  inner(declared: ReadonlySet<string>, extra: Iterable<string> = []): Scope {
    const bound = new Set([...this.bound, ...extra]);
    for (const d of declared) bound.delete(d);
    return new Scope(this.env, bound, declared.size === 0 ? this.shadowed : new Set([...this.shadowed, ...declared]));
  }
}

// ---------- variables of terms ----------

interface VarParams {
  /** Skip the head of refs (OPA's SkipRefHead: the head is what the ref reads, not what it binds). */
  refHead?: boolean;
  objectKeys?: boolean;
  sets?: boolean;
  /** Skip comprehensions, `print` operands and template parts (evaluated in closures of their own). */
  closures?: boolean;
  /** Leave out the names a comprehension or `every` declares for itself (its `some x`, `x :=`, key and value). */
  scoped?: boolean;
}

const ALL: VarParams = {};
const SAFETY: VarParams = { closures: true };
const CALL_OPERANDS: VarParams = { closures: true, sets: true, objectKeys: true, refHead: true };
const UNIFIED: VarParams = { closures: true, objectKeys: true, refHead: true };
const SCOPED: VarParams = { scoped: true };
const NO_TERMS: Term[] = [];

function isPrint(t: Extract<Term, { type: 'call' }>): boolean {
  const fn = t.fn;
  return fn[fn.length - 1] === 'print' && (fn.length === 1 || (fn.length === 2 && fn[0] === 'internal'));
}

function termVars(t: Term | undefined, p: VarParams, out: Set<string>): void {
  if (!t) return;
  switch (t.type) {
    case 'scalar':
      return;
    case 'var':
      out.add(varName(t));
      return;
    case 'ref':
      if (!p.refHead) termVars(t.head, p, out);
      for (const s of t.path) termVars(s, p, out);
      return;
    case 'array':
      for (const i of t.items) termVars(i, p, out);
      return;
    case 'set':
      if (!p.sets) for (const i of t.items) termVars(i, p, out);
      return;
    case 'object':
      for (const [k, v] of t.entries) {
        if (!p.objectKeys) termVars(k, p, out);
        termVars(v, p, out);
      }
      return;
    case 'call':
      if (p.closures && isPrint(t)) return;
      for (const a of t.args) termVars(a, p, out);
      return;
    case 'arraycomp':
    case 'setcomp':
    case 'objectcomp': {
      if (p.closures) return;
      const into = p.scoped ? new Set<string>() : out;
      if (t.type === 'objectcomp') {
        termVars(t.key, p, into);
        termVars(t.value, p, into);
      } else termVars(t.term, p, into);
      bodyVars(t.body, p, into);
      if (p.scoped) {
        const own = declaredNames(t.body);
        for (const v of into) if (!own.has(v)) out.add(v);
      }
      return;
    }
    case 'template':
      if (!p.closures) for (const part of t.parts) if (typeof part !== 'string') termVars(part, p, out);
      return;
    case 'with':
      if (p.closures) return;
      termVars(t.term, p, out);
      for (const w of t.with) termVars(w.value, p, out);
      return;
  }
}

function bodyVars(body: readonly Expr[], p: VarParams, out: Set<string>): void {
  for (const e of body) exprVars(e, p, out);
}

function exprVars(e: Expr, p: VarParams, out: Set<string>, withValues = true): void {
  if (withValues) for (const w of e.with) termVars(w.value, p, out);
  switch (e.kind) {
    case 'term':
      termVars(e.term, p, out);
      return;
    case 'assign':
    case 'unify':
      termVars(e.lhs, p, out);
      termVars(e.rhs, p, out);
      return;
    case 'not':
      exprVars(e.expr, p, out);
      return;
    case 'some':
      return;
    case 'somein':
      termVars(e.key, p, out);
      termVars(e.value, p, out);
      termVars(e.collection, p, out);
      return;
    case 'every':
      termVars(e.collection, p, out);
      if (!p.closures) everyBodyVars(e, p, out);
      return;
  }
}

/** The variables of an `every` body (with its key and value unless `scoped`, which leaves out what the body owns). */
function everyBodyVars(e: Extract<Expr, { kind: 'every' }>, p: VarParams, out: Set<string>): void {
  if (!p.scoped) {
    if (e.key) out.add(e.key);
    out.add(e.value);
    bodyVars(e.body, p, out);
    return;
  }
  const inner = new Set<string>();
  bodyVars(e.body, p, inner);
  const own = declaredNames(e.body);
  for (const v of inner) if (!own.has(v) && v !== e.key && v !== e.value) out.add(v);
}

/** The variables a term's closures (comprehensions, print operands, template parts) read from outside them. */
function closureVars(t: Term | undefined, out: Set<string>): void {
  if (!t) return;
  switch (t.type) {
    case 'arraycomp':
    case 'setcomp':
    case 'objectcomp':
    case 'template':
    case 'with':
      termVars(t, SCOPED, out);
      return;
    case 'call':
      if (isPrint(t)) termVars(t, SCOPED, out);
      else for (const a of t.args) closureVars(a, out);
      return;
    case 'ref':
      closureVars(t.head, out);
      for (const s of t.path) closureVars(s, out);
      return;
    case 'array':
    case 'set':
      for (const i of t.items) closureVars(i, out);
      return;
    case 'object':
      for (const [k, v] of t.entries) {
        closureVars(k, out);
        closureVars(v, out);
      }
      return;
    default:
      return;
  }
}

/** A head or comprehension term OPA moves into the body before checking (it contains a ref, call or closure). */
function requiresEval(t: Term, isRef: (name: string) => boolean): boolean {
  switch (t.type) {
    case 'scalar':
      return false;
    case 'var':
      return isRef(t.name);
    case 'array':
    case 'set':
      return t.items.some((i) => requiresEval(i, isRef));
    case 'object':
      return t.entries.some(([k, v]) => requiresEval(k, isRef) || requiresEval(v, isRef));
    default:
      return true;
  }
}

// ---------- expressions as the safety check sees them ----------

interface View {
  expr: Expr;
  /** A lifted head or comprehension term: checked, never part of the evaluated order. */
  virtual: boolean;
  /** Input variables (OPA's SafetyCheckVisitorParams: no call names, no closures). */
  vars: Set<string>;
  /** Variables read inside its closures. */
  closure: Set<string>;
  /** The terms its outputs are found in, and what kind of expression it is. */
  shape:
    | { kind: 'none' }
    | { kind: 'term'; term: Term }
    | { kind: 'eq'; lhs: Term; rhs: Term }
    | { kind: 'every'; collection: Term };
  withValues: Term[];
  /** Has it bodies of its own (comprehensions, `every`) to order? */
  nested: boolean;
}

/** The path a `with` value names when it is a plain name or ref (`count`, `data.lib.f`, `opa.runtime`). */
function namePath(t: Term): string[] | undefined {
  if (t.type === 'var') return [t.name];
  if (t.type !== 'ref' || t.head.type !== 'var') return undefined;
  const out = [t.head.name];
  for (const p of t.path) {
    if (p.type !== 'scalar' || typeof p.value !== 'string') return undefined;
    out.push(p.value);
  }
  return out;
}

function hasComprehension(e: Expr): boolean {
  switch (e.kind) {
    case 'term':
      if (comprehensionIn(e.term)) return true;
      break;
    case 'assign':
    case 'unify':
      if (comprehensionIn(e.lhs) || comprehensionIn(e.rhs)) return true;
      break;
    case 'somein':
      if (comprehensionIn(e.key) || comprehensionIn(e.value) || comprehensionIn(e.collection)) return true;
      break;
    default:
      break;
  }
  return e.with.some((w) => comprehensionIn(w.value));
}

function comprehensionIn(t: Term | undefined): boolean {
  if (!t) return false;
  if (t.type === 'arraycomp' || t.type === 'setcomp' || t.type === 'objectcomp') return true;
  return someChild(t, comprehensionIn);
}

function buildView(e: Expr, env: SafetyEnv, view: (e: Expr) => View): View {
  // A `with` value that names a function replaces that function: it is a name, not variables.
  const withValues =
    e.with.length === 0
      ? NO_TERMS
      : e.with
          .map((w) => w.value)
          .filter((v) => {
            const path = namePath(v);
            return !(path && env.isFunction(path));
          });
  const vars = new Set<string>();
  // (`not` takes its variables from the negated expression, which carries the same modifiers.)
  if (e.kind !== 'not') exprVars(e, SAFETY, vars, false);
  for (const w of withValues) termVars(w, SAFETY, vars);
  const closure = new Set<string>();
  for (const w of withValues) closureVars(w, closure);
  let shape: View['shape'];
  switch (e.kind) {
    case 'term':
      closureVars(e.term, closure);
      shape = { kind: 'term', term: e.term };
      break;
    case 'assign':
    case 'unify':
      closureVars(e.lhs, closure);
      closureVars(e.rhs, closure);
      shape = { kind: 'eq', lhs: e.lhs, rhs: e.rhs };
      break;
    case 'somein': {
      // OPA: `some k, v in xs` is `v = xs[k]` (k generated when absent).
      const key: Term = e.key ?? { type: 'var', name: '_', loc: e.collection.loc };
      const c = e.collection;
      const rhs: Term = c.type === 'ref' ? { type: 'ref', head: c.head, path: [...c.path, key], loc: c.loc } : { type: 'ref', head: c, path: [key], loc: c.loc };
      closureVars(c, closure);
      shape = { kind: 'eq', lhs: e.value, rhs };
      break;
    }
    case 'every':
      closureVars(e.collection, closure);
      everyBodyVars(e, SCOPED, closure);
      shape = { kind: 'every', collection: e.collection };
      break;
    case 'not': {
      const inner = view(e.expr);
      for (const v of inner.vars) vars.add(v);
      for (const v of inner.closure) closure.add(v);
      shape = { kind: 'none' };
      break;
    }
    default:
      shape = { kind: 'none' };
  }
  const nested = e.kind === 'every' || (e.kind === 'not' ? view(e.expr).nested : hasComprehension(e));
  return { expr: e, virtual: false, vars, closure, shape, withValues, nested };
}

// ---------- outputs ----------

/** Is the head of a ref bound (OPA's isRefSafe)? */
function refSafe(t: Extract<Term, { type: 'ref' }>, safe: (v: string) => boolean): boolean {
  const head = t.head;
  const vars = new Set<string>();
  if (head.type === 'var') return safe(varName(head));
  if (head.type === 'call') for (const a of head.args) termVars(a, SAFETY, vars);
  else termVars(head, ALL, vars);
  for (const v of vars) if (!safe(v)) return false;
  return true;
}

/** Variables bound by the refs in a term: the path variables of every ref whose head is safe (OPA's outputVarsForTerms). */
function refOutputs(t: Term | undefined, safe: ReadonlySet<string>, out: Set<string>): void {
  if (!t) return;
  switch (t.type) {
    case 'ref': {
      // A call at the head runs first (OPA lifts it), so what its operands bind counts for the head.
      const callHead = t.head.type === 'call';
      if (callHead) refOutputs(t.head, safe, out);
      if (!refSafe(t, (v) => safe.has(v) || (callHead && out.has(v)))) return;
      termVars(t, { refHead: true, closures: true }, out);
      for (const s of t.path) refOutputs(s, safe, out);
      return;
    }
    case 'call':
      if (!isPrint(t)) for (const a of t.args) refOutputs(a, safe, out);
      return;
    case 'array':
    case 'set':
      for (const i of t.items) refOutputs(i, safe, out);
      return;
    case 'object':
      for (const [k, v] of t.entries) {
        refOutputs(k, safe, out);
        refOutputs(v, safe, out);
      }
      return;
    default:
      return;
  }
}

function outputs(view: View, safe: ReadonlySet<string>, env: SafetyEnv): ReadonlySet<string> {
  const none = NO_NAMES;
  if (view.expr.kind === 'not' || view.shape.kind === 'none') return none;
  // `with` values are inputs: unsafe ones make the expression bind nothing.
  for (const w of view.withValues) {
    const vars = new Set<string>();
    termVars(w, SAFETY, vars);
    for (const v of vars) if (!safe.has(v)) return none;
  }
  const out = new Set<string>();
  for (const w of view.withValues) refOutputs(w, safe, out);
  switch (view.shape.kind) {
    case 'every':
      refOutputs(view.shape.collection, safe, out);
      return out;
    case 'term': {
      const t = view.shape.term;
      refOutputs(t, safe, out);
      if (t.type !== 'call') return out;
      const arity = env.arity(t.fn);
      if (arity < 0 || t.args.length <= arity) return out;
      const inputs = new Set<string>();
      for (const a of t.args.slice(0, arity)) termVars(a, CALL_OPERANDS, inputs);
      for (const v of inputs) if (!out.has(v) && !safe.has(v)) return none;
      for (const a of t.args.slice(arity)) termVars(a, CALL_OPERANDS, out);
      return out;
    }
    case 'eq': {
      refOutputs(view.shape.lhs, safe, out);
      refOutputs(view.shape.rhs, safe, out);
      const unified = new Unifier((v) => safe.has(v) || out.has(v)).run(view.shape.lhs, view.shape.rhs);
      for (const v of unified) out.add(v);
      for (const v of safe) out.delete(v);
      return out;
    }
  }
}

/** What unifying two terms binds, given the safe variables (OPA's ast.Unify). */
class Unifier {
  private readonly unified = new Set<string>();
  private readonly unknown = new Map<string, Set<string>>();
  constructor(private readonly known: (v: string) => boolean) {}

  run(a: Term, b: Term): Set<string> {
    this.unify(a, b);
    return this.unified;
  }

  private isSafe(v: string): boolean {
    return this.known(v) || this.unified.has(v);
  }

  private markSafe(v: string): void {
    if (this.unified.has(v)) return;
    this.unified.add(v);
    const deps = this.unknown.get(v);
    this.unknown.delete(v);
    for (const d of deps ?? []) this.markSafe(d);
    for (const [w, ds] of [...this.unknown]) {
      if (ds.delete(v) && ds.size === 0) this.markSafe(w);
    }
  }

  private markUnknown(a: string, b: string): void {
    let s = this.unknown.get(a);
    if (!s) this.unknown.set(a, (s = new Set()));
    s.add(b);
  }

  private markAllSafe(t: Term): void {
    const vars = new Set<string>();
    termVars(t, UNIFIED, vars);
    for (const v of vars) this.markSafe(v);
  }

  private unifyAll(a: string, b: Term): void {
    if (this.isSafe(a)) return this.markAllSafe(b);
    const vars = new Set<string>();
    termVars(b, UNIFIED, vars);
    const unsafe = [...vars].filter((v) => !this.isSafe(v));
    if (unsafe.length === 0) this.markSafe(a);
    else for (const v of unsafe) this.markUnknown(a, v);
  }

  private headSafe(t: Extract<Term, { type: 'ref' }>): boolean {
    return refSafe(t, (v) => this.isSafe(v));
  }

  private unifyComposite(a: Extract<Term, { type: 'array' | 'object' }>, b: Term): void {
    if (b.type === 'var') return this.unifyAll(varName(b), a);
    // a call is lifted into a bound variable; an array comprehension is an array
    if (b.type === 'call' || (b.type === 'arraycomp' && a.type === 'array')) return this.markAllSafe(a);
    if (b.type === 'ref') {
      if (this.headSafe(b)) this.markAllSafe(a);
    } else if (a.type === 'array' && b.type === 'array') {
      if (a.items.length === b.items.length) a.items.forEach((x, i) => this.unify(x, b.items[i]));
    } else if (a.type === 'object' && b.type === 'object' && a.entries.length === b.entries.length) {
      for (const [k, v] of a.entries) {
        const other = b.entries.find(([k2]) => sameKey(k, k2));
        if (other) this.unify(v, other[1]);
      }
    }
  }

  private unify(a: Term, b: Term): void {
    switch (a.type) {
      case 'var': {
        const av = varName(a);
        switch (b.type) {
          case 'var': {
            const bv = varName(b);
            if (this.isSafe(bv)) this.markSafe(av);
            else if (this.isSafe(av)) this.markSafe(bv);
            else {
              this.markUnknown(av, bv);
              this.markUnknown(bv, av);
            }
            return;
          }
          case 'array':
          case 'object':
            return this.unifyAll(av, b);
          case 'ref':
            if (this.headSafe(b)) this.markSafe(av);
            return;
          default:
            // scalars, sets, comprehensions, and calls (OPA lifts them into a bound variable)
            return this.markSafe(av);
        }
      }
      case 'ref':
        if (!this.headSafe(a)) return;
        if (b.type === 'var') this.markSafe(varName(b));
        else if (b.type === 'array' || b.type === 'object') this.markAllSafe(b);
        return;
      case 'call':
        // a lifted call is a bound variable
        if (b.type === 'var') this.markSafe(varName(b));
        else if (b.type === 'array' || b.type === 'object') this.markAllSafe(b);
        return;
      case 'arraycomp':
      case 'objectcomp':
      case 'setcomp':
        if (b.type === 'var') this.markSafe(varName(b));
        else if ((a.type === 'arraycomp' && b.type === 'array') || (a.type === 'objectcomp' && b.type === 'object')) this.markAllSafe(b);
        return;
      case 'array':
      case 'object':
        return this.unifyComposite(a, b);
      default:
        if (b.type === 'var') this.markSafe(varName(b));
        return;
    }
  }
}

/** Object keys match in unification only when they are the same constant (or the same variable). */
function sameKey(a: Term, b: Term): boolean {
  if (a.type === 'scalar' && b.type === 'scalar') return keyOf(a.value) === keyOf(b.value);
  return a.type === 'var' && b.type === 'var' && a.name === b.name && a.name !== '_';
}

// ---------- ordering ----------

interface Ordered {
  ordered: readonly Expr[];
  unsafe: Map<Expr, Set<string>>;
}

let liftedCount = 0;

class Orderer {
  private readonly views = new Map<Expr, View>();
  constructor(
    private readonly env: SafetyEnv,
    private readonly orders: BodyOrders,
  ) {}

  view(e: Expr): View {
    let v = this.views.get(e);
    if (!v) {
      v = buildView(e, this.env, (x) => this.view(x));
      this.views.set(e, v);
    }
    return v;
  }

  /** `$h = term`, for a head or comprehension term that is evaluated after the body. */
  lift(t: Term): Expr {
    const lhs: Term = { type: 'var', name: `$h${liftedCount++}`, loc: t.loc };
    const e: Expr = { kind: 'unify', lhs, rhs: t, loc: t.loc, text: '', with: [] };
    this.view(e).virtual = true;
    return e;
  }

  /** OPA's reorderBodyForSafety over a body and the terms lifted after it, then the closures in it. */
  order(body: readonly Expr[], lifted: readonly Expr[], scope: Scope): Ordered {
    const all = [...body, ...lifted].map((e) => this.view(e));
    const bodyVarSet = new Set<string>();
    for (const v of all) for (const n of v.vars) bodyVarSet.add(n);
    const safe = new Set<string>();
    for (const n of bodyVarSet) if (scope.isGlobal(n)) safe.add(n);
    const unsafe = new Map<View, Set<string>>();
    for (const v of all) {
      let s: Set<string> | undefined;
      for (const n of v.vars) if (!safe.has(n)) (s ??= new Set()).add(n);
      if (s) unsafe.set(v, s);
    }
    // The closure variables that are the body's own: they must be bound before the closure runs. A name
    // the body declares (`x :=`) is the body's only from its declaration on: a closure before it has its own.
    const declared = declaredNames(body);
    const declaredBefore = new Set<string>();
    const captured = new Map<View, ReadonlySet<string>>();
    const anyClosure = all.some((v) => v.closure.size > 0);
    // A closure's own name that the body declares later: the closure must run before that declaration,
    // since the evaluator has one scope per body (OPA renames the two apart).
    const ownLater = new Map<View, Set<string>>();
    const declares = new Map<View, Set<string>>();
    for (const v of all) {
      captured.set(v, v.closure.size === 0 ? NO_NAMES : new Set([...v.closure].filter((n) => bodyVarSet.has(n) && !scope.isGlobal(n) && (!declared.has(n) || declaredBefore.has(n)))));
      if (!anyClosure || declared.size === 0) continue;
      const own = new Set<string>();
      declaredBy(v.expr, own);
      declares.set(v, own);
      const later = [...v.closure].filter((n) => declared.has(n) && !declaredBefore.has(n) && !own.has(n));
      if (later.length > 0) ownLater.set(v, new Set(later));
      for (const n of own) declaredBefore.add(n);
    }
    const held = (v: View, at: number): boolean => {
      const names = declares.get(v);
      if (!names?.size) return false;
      for (let i = 0; i < at; i++) {
        const later = ownLater.get(all[i]);
        if (later && !placed.has(all[i]) && [...names].some((n) => later.has(n))) return true;
      }
      return false;
    };

    const placed = new Set<View>();
    const reordered: View[] = [];
    let holds = ownLater.size > 0;
    for (;;) {
      const before = reordered.length;
      for (const [at, v] of all.entries()) {
        if (placed.has(v) || (holds && held(v, at))) continue;
        const ovs = outputs(v, safe, this.env);
        const cv = captured.get(v) as ReadonlySet<string>;
        let need = unsafe.get(v);
        if (cv.size > 0) {
          // "closure-self": the closure reads what the expression itself binds (`x = [x | x = 1]`).
          if (sameSet(cv, ovs)) continue;
          need = new Set([...(need ?? []), ...cv]);
        }
        if (need) {
          for (const n of [...need]) if (ovs.has(n) || safe.has(n)) need.delete(n);
          unsafe.set(v, need);
        }
        if (!need || need.size === 0) {
          unsafe.delete(v);
          placed.add(v);
          reordered.push(v);
          for (const n of ovs) safe.add(n);
        }
      }
      if (reordered.length === before) {
        // Nothing more can run: give up holding declarations back (the closure waits for them).
        if (!holds) break;
        holds = false;
      }
    }
    // An expression left over with nothing to report (OPA would drop it) keeps its place at the end.
    for (const v of all) if (!placed.has(v) && !unsafe.get(v)?.size) reordered.push(v);

    const result = new Map<Expr, Set<string>>();
    for (const [v, s] of unsafe) if (s.size > 0) result.set(v.expr, s);
    // Closures see the variables of the expressions before them (OPA's bodySafetyTransformer).
    const seen = new Set(scope.bound);
    for (const v of reordered) {
      if (v.nested) this.closures(v, scope.inner(new Set(), seen), result);
      for (const n of v.vars) seen.add(n);
    }
    const ordered = reordered.filter((v) => !v.virtual).map((v) => v.expr);
    if (result.size === 0 && ordered.some((e, i) => e !== body[i])) this.orders.set(body, ordered);
    return { ordered: result.size === 0 ? ordered : body, unsafe: result };
  }

  /** Orders the bodies of the comprehensions and `every` expressions in one expression. */
  private closures(v: View, scope: Scope, unsafe: Map<Expr, Set<string>>): void {
    const e = v.expr;
    const visit = (t: Term | undefined): void => this.closureTerm(t, e, scope, unsafe);
    for (const w of v.withValues) visit(w);
    switch (e.kind) {
      case 'term':
        visit(e.term);
        return;
      case 'assign':
      case 'unify':
        visit(e.lhs);
        visit(e.rhs);
        return;
      case 'not':
        this.closures(this.view(e.expr), scope, unsafe);
        return;
      case 'somein':
        visit(e.key);
        visit(e.value);
        visit(e.collection);
        return;
      case 'every': {
        visit(e.collection);
        const kv = e.key ? [e.key, e.value] : [e.value];
        const inner = scope.inner(declaredNames(e.body), kv);
        this.merge(this.order(e.body, [], inner).unsafe, unsafe);
        return;
      }
      default:
        return;
    }
  }

  private closureTerm(t: Term | undefined, current: Expr, scope: Scope, unsafe: Map<Expr, Set<string>>): void {
    if (!t) return;
    const visit = (x: Term | undefined): void => this.closureTerm(x, current, scope, unsafe);
    switch (t.type) {
      case 'arraycomp':
      case 'setcomp':
        return this.comprehension(t.body, [t.term], current, scope, unsafe);
      case 'objectcomp':
        return this.comprehension(t.body, [t.key, t.value], current, scope, unsafe);
      case 'ref':
        visit(t.head);
        t.path.forEach(visit);
        return;
      case 'call':
        t.args.forEach(visit);
        return;
      case 'array':
      case 'set':
        t.items.forEach(visit);
        return;
      case 'object':
        t.entries.forEach(([k, x]) => {
          visit(k);
          visit(x);
        });
        return;
      case 'template':
        for (const p of t.parts) if (typeof p !== 'string') this.closurePart(p, current, scope, unsafe);
        return;
      case 'with':
        visit(t.term);
        t.with.forEach((w) => visit(w.value));
        return;
      default:
        return;
    }
  }

  /**
   * A template part is evaluated on its own (OPA rewrites it into a comprehension): what it reads must
   * be bound outside it, or by its own refs.
   */
  private closurePart(t: Term, current: Expr, scope: Scope, unsafe: Map<Expr, Set<string>>): void {
    const vars = new Set<string>();
    termVars(t, SAFETY, vars);
    const safe = new Set([...vars].filter((n) => scope.isGlobal(n)));
    const bound = new Set<string>();
    refOutputs(t, safe, bound);
    for (const n of vars) if (!safe.has(n) && !bound.has(n)) addUnsafe(unsafe, current, n);
    this.closureTerm(t, current, scope, unsafe);
  }

  /** A comprehension: its terms must come from its body (or outside); its body is ordered on its own. */
  private comprehension(body: readonly Expr[], terms: Term[], current: Expr, scope: Scope, unsafe: Map<Expr, Set<string>>): void {
    const inner = scope.inner(declaredNames(body));
    const lifted: Expr[] = [];
    const present = new Set<string>();
    bodyVars(body, SAFETY, present);
    for (const t of terms) {
      if (requiresEval(t, (n) => inner.isGlobal(n) && !present.has(n))) {
        lifted.push(this.lift(t));
        continue;
      }
      const vars = new Set<string>();
      termVars(t, ALL, vars);
      for (const n of vars) if (!present.has(n) && !inner.isGlobal(n)) addUnsafe(unsafe, current, n);
    }
    this.merge(this.order(body, lifted, inner).unsafe, unsafe);
  }

  private merge(from: Map<Expr, Set<string>>, into: Map<Expr, Set<string>>): void {
    for (const [e, s] of from) for (const n of s) addUnsafe(into, e, n);
  }
}

function addUnsafe(unsafe: Map<Expr, Set<string>>, e: Expr, name: string): void {
  let s = unsafe.get(e);
  if (!s) unsafe.set(e, (s = new Set()));
  s.add(name);
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

// ---------- reporting ----------

function compareLoc(a: Loc, b: Loc): number {
  return a.file === b.file ? a.line - b.line || a.column - b.column : a.file < b.file ? -1 : 1;
}

function sortByLoc(list: UnsafeVar[]): UnsafeVar[] {
  return list.sort((a, b) => compareLoc(a.loc, b.loc) || (a.name ?? '').localeCompare(b.name ?? ''));
}

/** OPA's safetyErrorSlice: each named variable once, at the first expression it is unsafe in; else each unsafe expression. */
function report(unsafe: Map<Expr, Set<string>>): UnsafeVar[] {
  const first = new Map<string, Loc>();
  for (const [e, vars] of unsafe) {
    for (const v of vars) {
      if (isGenerated(v)) continue;
      const prev = first.get(v);
      if (!prev || compareLoc(e.loc, prev) < 0) first.set(v, e.loc);
    }
  }
  if (first.size > 0) return sortByLoc([...first].map(([name, loc]) => ({ name, loc })));
  return sortByLoc([...unsafe.keys()].map((e) => ({ loc: e.loc })));
}
