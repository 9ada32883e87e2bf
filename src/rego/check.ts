/**
 * The check stage between compilation and evaluation, as OPA's compiler runs it: every call in every
 * rule (reached or not) must name a builtin or a user function, with a matching number of arguments,
 * and arithmetic on operands whose type is known at compile time must type-check. Errors carry OPA's
 * codes (rego_type_error) and the location of the offending call. A policy is checked once (the result
 * is kept with the compiled policy, which is itself cached by hash).
 *
 * Variables must be safe (bound before they are read) and each body gets the order it is evaluated in
 * (safety.ts); rules that reach themselves are rejected with rego_recursion_error (check-recursion.ts).
 *
 * The stages run in OPA's order, each over all modules before the next: undefined functions, unsafe
 * variables (rule heads, then bodies), recursion, then types (arity and operand types); the first stage
 * that has errors stops the check. Its first error is thrown as a RegoCheckError that also lists every
 * error of that stage (one per rule for calls and types), as OPA's compiler reports them all.
 */
import type { Expr, Module, Rule, Term } from './ast.js';
import { lookupBuiltin } from './builtins/index.js';
import { userFunction, type CompiledPolicy } from './compile.js';
import { RegoError } from './errors.js';
import { recursionError } from './check-recursion.js';
import { orderBody, ruleSafety, unsafeMessage, type SafetyEnv, type UnsafeVar } from './safety.js';
import { typeName, type Value } from './value.js';

/** Calls the evaluator handles itself rather than through the builtin table, with their arities. */
const EVALUATOR_CALLS = new Map<string, number[]>([
  ['print', []],
  ['internal.print', []],
  ['walk', [1, 2]],
  ['rego.metadata.rule', [0, 1]],
  ['rego.metadata.chain', [0, 1]],
]);

/** Operators whose operands must be numbers (OPA's types.Args(N, N) declarations). */
const NUMERIC_OPERATORS = new Set(['plus', 'mul', 'div', 'rem']);
/** `minus` takes two numbers or two sets (any<number, set>). */
const NUMBER_OR_SET = new Set(['minus']);

/** The first error of the failing stage, with all of that stage's errors in `errors` (first included). */
export class RegoCheckError extends RegoError {
  readonly errors: readonly RegoError[];
  constructor(errors: readonly RegoError[]) {
    const first = errors[0];
    super(first.regoCode, first.message, first.location, first.hint);
    this.errors = errors;
  }
}

const checked = new WeakMap<CompiledPolicy, RegoCheckError | null>();

/** Throws the check errors of a compiled policy (remembered, so a policy is checked once). */
export function checkPolicy(policy: CompiledPolicy, modules: Iterable<Module>): void {
  let result = checked.get(policy);
  if (result === undefined) {
    const errors = stageErrors(policy, modules);
    result = errors.length > 0 ? new RegoCheckError(errors) : null;
    checked.set(policy, result);
  }
  if (result) throw result;
}

/** Throws the first check error of an ad-hoc query body (evaluated outside any package); keeps its order for the evaluator. */
export function checkQuery(policy: CompiledPolicy, body: readonly Expr[]): void {
  const ctx: Context = { policy, pkg: [], imports: new Map(), stage: 'defined' };
  const error =
    checkBody(ctx, body) ??
    unsafeError(orderBody(body, safetyEnv(ctx, new Set()), policy.bodyOrder).unsafe) ??
    checkBody({ ...ctx, stage: 'typed' }, body);
  if (error) throw error;
}

/** A module's import aliases (future.* and rego.* imports switch features, they name no document). */
function moduleImports(mod: Module): Map<string, string[]> {
  const imports = new Map<string, string[]>();
  for (const imp of mod.imports) {
    if (imp.path[0] === 'future' || imp.path[0] === 'rego') continue;
    imports.set(imp.alias ?? imp.path[imp.path.length - 1], imp.path);
  }
  return imports;
}

/** The errors of the first stage that has any (empty: the policy checks). */
function stageErrors(policy: CompiledPolicy, modules: Iterable<Module>): RegoError[] {
  const all = [...modules];
  const stages = [() => callErrors(policy, all, 'defined'), () => safetyErrors(policy, all), () => [recursionError(policy, all, moduleImports)], () => callErrors(policy, all, 'typed')];
  for (const stage of stages) {
    const errors = stage().filter((e): e is RegoError => e !== undefined);
    if (errors.length > 0) return errors;
  }
  return [];
}

/** The first error of each rule, over all modules. */
function callErrors(policy: CompiledPolicy, modules: readonly Module[], stage: Context['stage']): RegoError[] {
  const errors: RegoError[] = [];
  for (const mod of modules) {
    const ctx: Context = { policy, pkg: mod.pkg, imports: moduleImports(mod), stage };
    for (const rule of mod.rules) {
      const error = checkRule(ctx, rule);
      if (error) errors.push(error);
    }
  }
  return errors;
}

/**
 * OPA's CheckSafetyRuleHeads then CheckSafetyRuleBodies over all modules; each body's safe order is kept
 * with the compiled policy (policy.bodyOrder), where the evaluator takes it.
 */
function safetyErrors(policy: CompiledPolicy, modules: readonly Module[]): RegoError[] {
  const rulesOf = packageRuleNames(policy);
  const heads: UnsafeVar[] = [];
  const bodies: UnsafeVar[] = [];
  for (const mod of modules) {
    const env = safetyEnv({ policy, pkg: mod.pkg, imports: moduleImports(mod), stage: 'defined' }, rulesOf.get(mod.pkg.join('.')) ?? new Set());
    for (const rule of mod.rules) {
      const r = ruleSafety(rule, env, policy.bodyOrder);
      heads.push(...r.heads);
      bodies.push(...r.bodies);
    }
  }
  // Heads are a stage of their own in OPA: their errors come alone when there are any.
  return (heads.length > 0 ? heads : bodies).map(unsafeAt);
}

function unsafeAt(u: UnsafeVar): RegoError {
  return new RegoError('rego_unsafe_var_error', unsafeMessage(u), u.loc);
}

function unsafeError(list: readonly UnsafeVar[]): RegoError | undefined {
  return list[0] && unsafeAt(list[0]);
}

/** The rule names of each package, over all its modules (OPA resolves these names to data refs). */
function packageRuleNames(policy: CompiledPolicy): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const info of policy.modules.values()) {
    const key = info.pkg.join('.');
    const names = out.get(key) ?? new Set<string>();
    for (const n of info.ruleNames) names.add(n);
    out.set(key, names);
  }
  return out;
}

/** Names bound before a body of this module runs, and the arity of what its calls name. */
function safetyEnv(ctx: Context, ruleNames: ReadonlySet<string>): SafetyEnv {
  return {
    isGlobal: (name) => name === 'input' || name === 'data' || ctx.imports.has(name) || ruleNames.has(name),
    arity: (fn) => {
      const special = EVALUATOR_CALLS.get(fn.join('.'));
      if (special) return special.length > 0 ? special[0] : -1;
      const userFn = userFunction(ctx.policy, ctx.pkg, ctx.imports, fn);
      if (userFn) return userFn.rules[0]?.head.args?.length ?? userFn.defaultRule?.head.args?.length ?? -1;
      return lookupBuiltin(fn.join('.'))?.arity ?? -1;
    },
    isFunction: (path) => EVALUATOR_CALLS.has(path.join('.')) || userFunction(ctx.policy, ctx.pkg, ctx.imports, path) !== undefined || lookupBuiltin(path.join('.')) !== undefined,
  };
}

interface Context {
  policy: CompiledPolicy;
  pkg: string[];
  imports: Map<string, string[]>;
  /** 'defined': only calls to functions that do not exist (OPA's CheckUndefinedFuncs); 'typed': arity and operand types (CheckTypes). */
  stage: 'defined' | 'typed';
}

function checkRule(ctx: Context, rule: Rule): RegoError | undefined {
  const terms: (Term | undefined)[] = [...rule.head.ref, ...(rule.head.args ?? []), rule.head.key, rule.head.value];
  for (const t of terms) {
    const e = t && checkTerm(ctx, t);
    if (e) return e;
  }
  for (const body of [rule.body, ...rule.elses.map((b) => b.body)]) {
    const e = checkBody(ctx, body);
    if (e) return e;
  }
  for (const branch of rule.elses) {
    const e = branch.value && checkTerm(ctx, branch.value);
    if (e) return e;
  }
  return undefined;
}

function checkBody(ctx: Context, body: readonly Expr[]): RegoError | undefined {
  for (const expr of body) {
    const e = checkExpr(ctx, expr);
    if (e) return e;
  }
  return undefined;
}

function checkExpr(ctx: Context, expr: Expr): RegoError | undefined {
  const terms: (Term | undefined)[] = [];
  for (const w of expr.with) terms.push(w.value);
  switch (expr.kind) {
    case 'term':
      terms.push(expr.term);
      break;
    case 'assign':
    case 'unify':
      terms.push(expr.lhs, expr.rhs);
      break;
    case 'not':
      return checkExpr(ctx, expr.expr) ?? firstOf(ctx, terms);
    case 'some':
      break;
    case 'somein':
      terms.push(expr.key, expr.value, expr.collection);
      break;
    case 'every':
      terms.push(expr.collection);
      return firstOf(ctx, terms) ?? checkBody(ctx, expr.body);
  }
  return firstOf(ctx, terms);
}

function firstOf(ctx: Context, terms: readonly (Term | undefined)[]): RegoError | undefined {
  for (const t of terms) {
    const e = t && checkTerm(ctx, t);
    if (e) return e;
  }
  return undefined;
}

function checkTerm(ctx: Context, t: Term): RegoError | undefined {
  switch (t.type) {
    case 'scalar':
    case 'var':
      return undefined;
    case 'ref':
      return checkTerm(ctx, t.head) ?? firstOf(ctx, t.path);
    case 'array':
    case 'set':
      return firstOf(ctx, t.items);
    case 'object':
      return firstOf(ctx, t.entries.flat());
    case 'call':
      return firstOf(ctx, t.args) ?? checkCall(ctx, t);
    case 'arraycomp':
    case 'setcomp':
      return checkTerm(ctx, t.term) ?? checkBody(ctx, t.body);
    case 'objectcomp':
      return checkTerm(ctx, t.key) ?? checkTerm(ctx, t.value) ?? checkBody(ctx, t.body);
    case 'template':
      return firstOf(ctx, t.parts.filter((p): p is Term => typeof p !== 'string'));
    case 'with':
      return checkTerm(ctx, t.term) ?? firstOf(ctx, t.with.map((w) => w.value));
  }
}

function checkCall(ctx: Context, t: Extract<Term, { type: 'call' }>): RegoError | undefined {
  const name = t.fn.join('.');
  const special = EVALUATOR_CALLS.get(name);
  if (special) {
    if (ctx.stage === 'typed' && special.length > 0 && !special.includes(t.args.length)) return arityError(name, t, special[special.length - 1]);
    return undefined;
  }
  const userFn = userFunction(ctx.policy, ctx.pkg, ctx.imports, t.fn);
  if (userFn) {
    if (ctx.stage === 'defined') return undefined;
    const arity = userFn.rules[0]?.head.args?.length ?? userFn.defaultRule?.head.args?.length ?? 0;
    if (t.args.length !== arity && t.args.length !== arity + 1) {
      return new RegoError('rego_type_error', `function data.${userFn.path.join('.')} has arity ${arity}, got ${t.args.length} arguments`, t.loc);
    }
    return undefined;
  }
  const spec = lookupBuiltin(name);
  if (!spec) return new RegoError('rego_type_error', `undefined function ${name}`, t.loc);
  if (ctx.stage === 'defined') return undefined;
  if (t.args.length !== spec.arity && t.args.length !== spec.arity + 1) return arityError(name, t, spec.arity);
  return checkOperandTypes(name, t);
}

function arityError(name: string, t: Extract<Term, { type: 'call' }>, want: number): RegoError {
  return new RegoError('rego_type_error', `${name}: arity mismatch\n\thave: ${t.args.length}\n\twant: ${want}`, t.loc);
}

/** OPA's `name: invalid argument(s)` for operands whose type is fixed by the source text. */
function checkOperandTypes(name: string, t: Extract<Term, { type: 'call' }>): RegoError | undefined {
  const numeric = NUMERIC_OPERATORS.has(name);
  if (!numeric && !NUMBER_OR_SET.has(name)) return undefined;
  const have = t.args.slice(0, 2).map(staticType);
  const allowed = numeric ? ['number'] : ['number', 'set'];
  if (have.every((h) => h === 'any' || allowed.includes(h))) return undefined;
  const want = numeric ? 'number' : 'any<number, set>';
  return new RegoError('rego_type_error', `${name}: invalid argument(s)\n\thave: (${have.join(', ')})\n\twant: (${want}, ${want})`, t.loc);
}

/** The type of a term that is known without evaluating it, or 'any'. */
function staticType(t: Term): string {
  switch (t.type) {
    case 'scalar':
      return typeName(t.value as Value);
    case 'array':
    case 'arraycomp':
      return 'array';
    case 'object':
    case 'objectcomp':
      return 'object';
    case 'set':
    case 'setcomp':
      return 'set';
    case 'template':
      return 'string';
    default:
      return 'any';
  }
}
