/**
 * The evaluator: a backtracking interpreter in continuation-passing style. Every evaluation step takes a
 * continuation `k`; a step calls `k` once per solution and returns true when the search must stop (a
 * `not`, a first-solution search, or an error). Bindings live in scopes (rule bodies, comprehensions,
 * `every` bodies) and are undone on the way back. Terms with at most one value and the body expressions
 * they make are compiled once into closures kept on their AST nodes (compileSingle, compileInline), which
 * run without continuations; everything else takes the general path.
 */
import type { Expr, Loc, Rule, Term, WithModifier } from './ast.js';
import { findNode, type CallTarget, type CompiledPolicy, type RuleNode, type RuleSet } from './compile.js';
import { BuiltinError, EvalTypeError, RegoError, RegoLimitError } from './errors.js';
import { formatForPrint } from './format.js';
import { isMemoKey, worthMemoising, type MemoEntry } from './call-memo.js';
import { conflict, insertAt, mergeAt, setAt, structuralObject } from './documents.js';
import { constantValue } from './fold.js';
import { NO_VALUES, PrintValues, printLines, type PrintArg, type PrintEntry } from './prints.js';
import { completeBranches, functionArity, functionShape, isComputedParam, plainVar } from './rule-shapes.js';
import { Scope, UNBOUND } from './scope.js';
import { lookupBuiltin } from './builtins/index.js';
import type { BuiltinContext, BuiltinSpec } from './builtins/registry.js';
import { compare, equals, fromJson, RObject, RSet, typeName, type Json, type Value } from './value.js';

export interface TraceEvent {
  op: 'enter' | 'exit' | 'eval' | 'fail' | 'redo';
  node: 'rule' | 'body' | 'expr' | 'query';
  rule?: string;
  location: Loc;
  text?: string;
  depth: number;
  locals(): Record<string, Value>;
}
export type Tracer = (event: TraceEvent) => void;

export interface EvalConfig {
  strict: boolean;
  maxSteps: number;
  timeoutMs: number;
  nowNs: bigint;
  tracer?: Tracer;
  signal?: AbortSignal;
  /** Whether print() output is kept (default true). Off, print() holds and its operands are not evaluated, as OPA does with print statements disabled. */
  prints?: boolean;
}

type K = () => boolean;
/** A term compiled for the evaluator's single-value path (Evaluator.compileSingle). */
export type SingleFn = (ev: Evaluator, scope: Scope) => Value | undefined | typeof MANY;
/** An expression compiled for evalBodyLoop (Evaluator.compileInline). */
export type InlineFn = (ev: Evaluator, scope: Scope) => boolean | string | typeof MANY;
type VK = (v: Value) => boolean;

interface Overrides {
  input?: Value;
  hasInput: boolean;
  data: { path: string[]; value: Value }[];
  functions: Map<string, Term>;
}

export class Evaluator {
  private steps = 0;
  private readonly deadline: number;
  /** Rule values of this query, keyed by the compiled rule set (one entry per rule path). */
  private cache = new Map<RuleSet, Value | undefined>();
  private readonly inProgress = new Set<RuleSet>();
  private readonly callTargets: CompiledPolicy['callTargets'];
  private overrides: Overrides;
  private depth = 0;
  private readonly printLog: PrintEntry[] = [];
  /** The last call of each costly pure builtin call site on scalar operands, and its result (memoFor). */
  private memo: Map<Term, MemoEntry> | undefined;
  private printLines: string[] | undefined;
  private readonly ctx: BuiltinContext;

  constructor(
    private readonly policy: CompiledPolicy,
    private readonly baseData: Value,
    input: Value | undefined,
    private readonly config: EvalConfig,
  ) {
    this.overrides = { input, hasInput: input !== undefined, data: [], functions: new Map() };
    this.callTargets = policy.callTargets;
    this.deadline = config.timeoutMs > 0 ? Date.now() + config.timeoutMs : Number.POSITIVE_INFINITY;
    const log = this.printLog;
    this.ctx = {
      strict: config.strict,
      nowNs: config.nowNs,
      deadline: this.deadline,
      print: (l) => {
        log.push(l);
        this.printLines = undefined;
      },
      cache: new Map(),
    };
  }

  // ---------- entry points ----------

  /** Value of a document by path under data (rules and base data merged). */
  evalDataPath(path: string[]): Value | undefined {
    let result: Value | undefined;
    this.evalDataRef(path, [], this.rootScope([]), (v) => {
      result = v;
      return true;
    });
    return result;
  }

  /** All solutions of a query body, as the bindings of its (non-generated) variables. */
  evalQueryBody(body: Expr[], pkg: string[] = []): Record<string, Value>[] {
    const scope = this.rootScope(pkg);
    const rows: Record<string, Value>[] = [];
    const names = new Set<string>();
    const collect = (t: Term | undefined) => this.collectVars(t, names);
    for (const e of body) this.exprVars(e, collect);
    this.evalBody(body, 0, scope, () => {
      const row: Record<string, Value> = {};
      for (const n of names) {
        const v = scope.lookup(n);
        if (v !== undefined && v !== UNBOUND && n !== '_' && !/^__local\d+__$/.test(n)) row[n] = v;
      }
      rows.push(row);
      return false;
    });
    return rows;
  }

  private rootScope(pkg: string[]): Scope {
    return new Scope(undefined, pkg, new Map());
  }

  private exprVars(e: Expr, collect: (t: Term | undefined) => void): void {
    switch (e.kind) {
      case 'term':
        collect(e.term);
        break;
      case 'assign':
      case 'unify':
        collect(e.lhs);
        collect(e.rhs);
        break;
      case 'somein':
        collect(e.key);
        collect(e.value);
        break;
      case 'some':
        break;
      default:
        break;
    }
  }

  private collectVars(t: Term | undefined, out: Set<string>): void {
    if (!t) return;
    switch (t.type) {
      case 'var':
        if (t.name !== 'input' && t.name !== 'data') out.add(t.name);
        break;
      case 'ref':
        this.collectVars(t.head, out);
        t.path.forEach((p) => this.collectVars(p, out));
        break;
      case 'array':
      case 'set':
        t.items.forEach((i) => this.collectVars(i, out));
        break;
      case 'object':
        t.entries.forEach(([k, v]) => {
          this.collectVars(k, out);
          this.collectVars(v, out);
        });
        break;
      case 'call':
        t.args.forEach((a) => this.collectVars(a, out));
        break;
      default:
        break;
    }
  }

  // ---------- limits ----------

  private step(loc?: Loc): void {
    if (++this.steps > this.config.maxSteps) throw new RegoLimitError(`evaluation exceeded ${this.config.maxSteps} steps`, loc);
    if ((this.steps & 1023) === 0) {
      if (Date.now() > this.deadline) throw new RegoLimitError(`evaluation exceeded ${this.config.timeoutMs} ms`, loc);
      if (this.config.signal?.aborted) throw new RegoError('eval_cancel_error', 'caller cancelled query execution', loc);
    }
  }

  private trace(op: TraceEvent['op'], node: TraceEvent['node'], loc: Loc, scope: Scope, text?: string): void {
    const tracer = this.config.tracer;
    if (!tracer) return;
    tracer({ op, node, rule: scope.rule, location: loc, text, depth: this.depth, locals: () => scope.locals() });
  }

  // ---------- bodies and expressions ----------

  evalBody(body: readonly Expr[], i: number, scope: Scope, k: K): boolean {
    if (i === body.length) return k();
    // The check stage ordered bodies so that variables are bound before they are read (safety.ts).
    if (i === 0) body = this.policy.bodyOrder.get(body) ?? body;
    if (!this.config.tracer) return this.evalBodyLoop(body, i, scope, k);
    const expr = body[i];
    this.step(expr.loc);
    let succeeded = false;
    this.trace('eval', 'expr', expr.loc, scope, expr.text);
    const stop = this.evalExprWith(expr, scope, () => {
      this.trace(succeeded ? 'redo' : 'exit', 'expr', expr.loc, scope, expr.text);
      succeeded = true;
      return this.evalBody(body, i + 1, scope, k);
    });
    if (!succeeded) this.trace('fail', 'expr', expr.loc, scope, expr.text);
    return stop;
  }

  /**
   * evalBody for the rest of a body when no tracer is set: expressions with at most one solution (a
   * term, `x := <term>` and `not`, whose operands `single` computes) run in a loop, with no continuation
   * closure per expression; the first other expression continues by the general path. The variables the
   * loop bound are unbound again on the way back, in reverse order, as the nested continuations would.
   */
  private evalBodyLoop(body: readonly Expr[], i: number, scope: Scope, k: K): boolean {
    let bound: string[] | undefined;
    let stop = false;
    for (;;) {
      if (i === body.length) {
        stop = k();
        break;
      }
      const expr = body[i];
      this.step(expr.loc);
      const done = (expr.inline ??= Evaluator.compileInline(expr))(this, scope);
      if (done === MANY) {
        const next = i + 1;
        stop = this.evalExprWith(expr, scope, () => this.evalBodyLoop(body, next, scope, k));
        break;
      }
      if (done === false) break;
      if (typeof done === 'string') (bound ??= []).push(done);
      i++;
    }
    if (bound) for (let j = bound.length - 1; j >= 0; j--) scope.vars.set(bound[j], UNBOUND);
    return stop;
  }

  /**
   * One expression of evalBodyLoop, compiled once into a closure: it answers false when the expression
   * fails, true when it holds, the variable's name when it bound one in `scope` (to be unbound after the
   * rest of the body), MANY for the general path. Terms and `x := <term>` run their single-value closures
   * (compileSingle); print() is logged; `not` runs its expression to the first solution. An expression
   * with `with` modifiers always takes the general path.
   */
  private static compileInline(expr: Expr): InlineFn {
    if (expr.with.length > 0) return () => MANY;
    switch (expr.kind) {
      case 'term': {
        const t = expr.term;
        if (t.type === 'call' && isPrintName(t.fn.join('.'))) {
          return (ev, scope) => {
            // A mocked function may be print itself: the general path sorts that out.
            if (ev.overrides.functions.size !== 0) return MANY;
            ev.logPrint(t, scope);
            return true;
          };
        }
        const value = Evaluator.singleFn(t);
        return (ev, scope) => {
          const v = value(ev, scope);
          if (v === MANY) return MANY;
          return v !== undefined && v !== false;
        };
      }
      case 'assign': {
        const lhs = expr.lhs;
        if (lhs.type !== 'var') return () => MANY;
        const name = lhs.name;
        const value = Evaluator.singleFn(expr.rhs);
        return (ev, scope) => {
          // As assign: the variable is declared here before the right-hand side is read.
          scope.vars.set(name, UNBOUND);
          const v = value(ev, scope);
          if (v === MANY) return MANY;
          if (v === undefined) return false;
          if (name === '_') return true;
          scope.vars.set(name, v);
          return name;
        };
      }
      case 'not': {
        const inner = expr.expr;
        return (ev, scope) => {
          let found = false;
          ev.evalExprWith(inner, scope, () => (found = true));
          return !found;
        };
      }
      default:
        return () => MANY;
    }
  }

  /** A term's single-value closure, compiled on first use. */
  private static singleFn(t: Term): SingleFn {
    return (t.single ??= Evaluator.compileSingle(t));
  }

  private evalExprWith(expr: Expr, scope: Scope, k: K): boolean {
    if (expr.with.length === 0 || expr.kind === 'not') return this.evalExpr(expr, scope, k);
    const outer = { overrides: this.overrides, cache: this.cache };
    return this.applyWith(expr.with, 0, scope, () => {
      const inside = { overrides: this.overrides, cache: this.cache };
      return this.evalExpr(expr, scope, () => {
        this.overrides = outer.overrides;
        this.cache = outer.cache;
        try {
          return k();
        } finally {
          this.overrides = inside.overrides;
          this.cache = inside.cache;
        }
      });
    }, k);
  }

  /** Applies `with` modifiers, evaluates inside them, and restores state before continuing. */
  private applyWith(mods: readonly WithModifier[], i: number, scope: Scope, inner: K, outerK: K): boolean {
    const saved = this.overrides;
    const savedCache = this.cache;
    const next: Overrides = { input: saved.input, hasInput: saved.hasInput, data: [...saved.data], functions: new Map(saved.functions) };
    for (const mod of mods) {
      const target = mod.target;
      const path = this.refPathStrings(target);
      if (!path) throw new RegoError('rego_compile_error', 'with keyword target must reference existing input, data, or a function', target.loc);
      if (path[0] === 'input') {
        const v = this.evalFirst(mod.value, scope);
        if (v === undefined) return false;
        next.input = path.length === 1 ? v : setAt(next.input, path.slice(1), v);
        next.hasInput = true;
      } else if (path[0] === 'data' && !this.isFunctionPath(path.slice(1))) {
        const v = this.evalFirst(mod.value, scope);
        if (v === undefined) return false;
        next.data.push({ path: path.slice(1), value: v });
      } else {
        // A replacement that is not a function is a value: bind it now, in the scope that names it.
        const valuePath = this.refPathStrings(mod.value);
        const isFn = valuePath !== undefined && (this.resolveFunction(valuePath, scope) !== undefined || lookupBuiltin(valuePath.join('.')) !== undefined);
        let replacement = mod.value;
        if (!isFn) {
          const v = this.evalFirst(mod.value, scope);
          if (v === undefined) return false;
          replacement = { type: 'scalar', value: v, loc: mod.value.loc };
        }
        next.functions.set(this.functionKey(path, scope), replacement);
      }
    }
    // The modifiers apply to this expression only: the rest of the body runs with the old state.
    void outerK;
    this.overrides = next;
    this.cache = new Map();
    try {
      return inner();
    } finally {
      this.overrides = saved;
      this.cache = savedCache;
    }
  }

  private isFunctionPath(path: string[]): boolean {
    const node = findNode(this.policy.root, path);
    return node?.ruleSet?.kind === 'function';
  }

  private functionKey(path: string[], scope: Scope): string {
    if (path[0] === 'data') return path.join('.');
    const local = [...scope.pkg, ...path];
    if (findNode(this.policy.root, local)?.ruleSet?.kind === 'function') return ['data', ...local].join('.');
    return path.join('.');
  }

  private refPathStrings(t: Term): string[] | undefined {
    if (t.type === 'var') return [t.name];
    if (t.type === 'ref' && t.head.type === 'var') {
      const out = [t.head.name];
      for (const p of t.path) {
        if (p.type === 'scalar' && typeof p.value === 'string') out.push(p.value);
        else return undefined;
      }
      return out;
    }
    return undefined;
  }

  private evalExpr(expr: Expr, scope: Scope, k: K): boolean {
    switch (expr.kind) {
      case 'term': {
        const v = this.single(expr.term, scope);
        if (v !== MANY) return v === undefined || v === false ? false : k();
        return this.evalTerm(expr.term, scope, (v) => (v === false ? false : k()));
      }
      case 'not': {
        let found = false;
        this.withDepthNot(() => this.evalExprWith(expr.expr, scope, () => (found = true)));
        return found ? false : k();
      }
      case 'assign':
        return this.assign(expr.lhs, expr.rhs, scope, k);
      case 'unify':
        return this.unifyTerms(expr.lhs, expr.rhs, scope, k);
      case 'some':
        for (const name of expr.vars) scope.vars.set(name, UNBOUND);
        return k();
      case 'somein':
        return this.someIn(expr, scope, k);
      case 'every':
        return this.every(expr, scope, k);
    }
  }

  private withDepthNot(fn: () => void): void {
    fn();
  }

  private assign(lhs: Term, rhs: Term, scope: Scope, k: K): boolean {
    if (lhs.type === 'var') scope.vars.set(lhs.name, UNBOUND);
    else this.declarePatternVars(lhs, scope);
    const v = this.single(rhs, scope);
    if (v !== MANY) return v === undefined ? false : this.unifyValue(lhs, v, scope, k);
    return this.evalTerm(rhs, scope, (v) => this.unifyValue(lhs, v, scope, k));
  }

  private declarePatternVars(t: Term, scope: Scope): void {
    if (t.type === 'var') {
      if (t.name !== '_') scope.vars.set(t.name, UNBOUND);
    } else if (t.type === 'array') t.items.forEach((i) => this.declarePatternVars(i, scope));
    else if (t.type === 'object') t.entries.forEach(([, v]) => this.declarePatternVars(v, scope));
  }

  private someIn(expr: Extract<Expr, { kind: 'somein' }>, scope: Scope, k: K): boolean {
    if (expr.key) this.declarePatternVars(expr.key, scope);
    this.declarePatternVars(expr.value, scope);
    const valueVar = plainVar(expr.value);
    const keyVar = expr.key ? plainVar(expr.key) : undefined;
    if (valueVar !== undefined && (expr.key === undefined || (keyVar !== undefined && (keyVar === '' || keyVar !== valueVar)))) {
      // `some v in xs` and `some k, v in xs` with plain variables, declared in this scope just above: each
      // element binds them here directly (what unifyValue would find after two scope walks).
      return this.evalTerm(expr.collection, scope, (coll) =>
        this.iterate(coll, (key, value) => {
          if (keyVar) scope.vars.set(keyVar, key);
          if (valueVar) scope.vars.set(valueVar, value);
          const stop = k();
          if (keyVar) scope.vars.set(keyVar, UNBOUND);
          if (valueVar) scope.vars.set(valueVar, UNBOUND);
          return stop;
        }),
      );
    }
    return this.evalTerm(expr.collection, scope, (coll) =>
      this.iterate(coll, (key, value) => {
        if (expr.key) return this.unifyValue(expr.key, key, scope, () => this.unifyValue(expr.value, value, scope, k));
        return this.unifyValue(expr.value, value, scope, k);
      }),
    );
  }

  private iterate(coll: Value, fn: (key: Value, value: Value) => boolean): boolean {
    // Every element counts as a step, so iterating a huge collection hits the step limit.
    if (Array.isArray(coll)) {
      for (let i = 0; i < coll.length; i++) {
        this.step();
        if (fn(i, coll[i])) return true;
      }
    } else if (coll instanceof RObject) {
      for (const [key, value] of coll.sortedEntries()) {
        this.step();
        if (fn(key, value)) return true;
      }
    } else if (coll instanceof RSet) {
      for (const v of coll.sorted()) {
        this.step();
        if (fn(v, v)) return true;
      }
    }
    return false;
  }

  private every(expr: Extract<Expr, { kind: 'every' }>, scope: Scope, k: K): boolean {
    let ok = true;
    const stop = this.evalTerm(expr.collection, scope, (c) => {
      ok = true;
      // every over something that is not a collection is false (OPA), not vacuously true
      if (!Array.isArray(c) && !(c instanceof RObject) && !(c instanceof RSet)) return false;
      this.iterate(c, (key, value) => {
        const inner = new Scope(scope, scope.pkg, scope.imports, scope.rule);
        if (expr.key) inner.vars.set(expr.key, key);
        inner.vars.set(expr.value, value);
        let found = false;
        this.evalBody(expr.body, 0, inner, () => (found = true));
        if (!found) {
          ok = false;
          return true;
        }
        return false;
      });
      return ok ? k() : false;
    });
    return stop;
  }

  // ---------- unification ----------

  private isPattern(t: Term, scope: Scope): boolean {
    switch (t.type) {
      case 'var': {
        if (t.name === '_') return true;
        const v = scope.lookup(t.name);
        if (v !== undefined && v !== UNBOUND) return false;
        if (v === UNBOUND) return true;
        return !this.isGlobalName(t.name, scope);
      }
      case 'array':
        return t.items.some((i) => this.isPattern(i, scope));
      case 'object':
        return t.entries.some(([, v]) => this.isPattern(v, scope));
      default:
        return false;
    }
  }

  private unifyTerms(lhs: Term, rhs: Term, scope: Scope, k: K): boolean {
    const lp = this.isPattern(lhs, scope);
    const rp = this.isPattern(rhs, scope);
    if (lp && rp && lhs.type === 'array' && rhs.type === 'array' && lhs.items.length === rhs.items.length) {
      const go = (i: number): boolean => (i === lhs.items.length ? k() : this.unifyTerms(lhs.items[i], rhs.items[i], scope, () => go(i + 1)));
      return go(0);
    }
    if (lp && rp && lhs.type === 'object' && rhs.type === 'object' && lhs.entries.length === rhs.entries.length) {
      // both sides are object patterns: keys must match as constants, values unify pairwise
      const keyOf2 = (t: Term) => (t.type === 'scalar' ? JSON.stringify(t.value) : undefined);
      const right = new Map(rhs.entries.map(([k, v]) => [keyOf2(k), v] as const));
      if (lhs.entries.every(([k]) => keyOf2(k) !== undefined && right.has(keyOf2(k)))) {
        const go = (i: number): boolean => (i === lhs.entries.length ? k() : this.unifyTerms(lhs.entries[i][1], right.get(keyOf2(lhs.entries[i][0])) as Term, scope, () => go(i + 1)));
        return go(0);
      }
      return false;
    }
    if (lp && !rp) return this.evalTerm(rhs, scope, (v) => this.unifyValue(lhs, v, scope, k));
    if (!lp) return this.evalTerm(lhs, scope, (v) => this.unifyValue(rhs, v, scope, k));
    throw new RegoError('rego_unsafe_var_error', `var ${this.firstVar(lhs) ?? '?'} is unsafe`, lhs.loc);
  }

  private firstVar(t: Term): string | undefined {
    if (t.type === 'var') return t.name;
    if (t.type === 'array') for (const i of t.items) return this.firstVar(i);
    return undefined;
  }

  /** Unifies a term (a pattern or anything evaluable) with a value. */
  unifyValue(t: Term, value: Value, scope: Scope, k: K): boolean {
    switch (t.type) {
      case 'var': {
        if (t.name === '_') return k();
        const cur = scope.lookup(t.name);
        if (cur === UNBOUND || (cur === undefined && !this.isGlobalName(t.name, scope))) {
          const owner = this.ownerScope(scope, t.name);
          owner.vars.set(t.name, value);
          const stop = k();
          owner.vars.set(t.name, UNBOUND);
          if (cur === undefined && owner === scope) scope.vars.delete(t.name);
          return stop;
        }
        return this.evalTerm(t, scope, (v) => (equals(v, value) ? k() : false));
      }
      case 'array': {
        if (!Array.isArray(value) || value.length !== t.items.length) return false;
        const go = (i: number): boolean => (i === t.items.length ? k() : this.unifyValue(t.items[i], value[i], scope, () => go(i + 1)));
        return go(0);
      }
      case 'object': {
        if (!(value instanceof RObject) || value.size !== t.entries.length) return false;
        const go = (i: number): boolean => {
          if (i === t.entries.length) return k();
          const [kt, vt] = t.entries[i];
          return this.evalTerm(kt, scope, (key) => {
            const v = value.get(key);
            return v === undefined ? false : this.unifyValue(vt, v, scope, () => go(i + 1));
          });
        };
        return go(0);
      }
      default:
        return this.evalTerm(t, scope, (v) => (equals(v, value) ? k() : false));
    }
  }

  private ownerScope(scope: Scope, name: string): Scope {
    for (let s: Scope | undefined = scope; s; s = s.parent) if (s.vars.get(name) === UNBOUND) return s;
    return scope;
  }

  private isGlobalName(name: string, scope: Scope): boolean {
    if (name === 'input' || name === 'data') return true;
    if (scope.imports.has(name)) return true;
    return this.packageChild(scope.pkg, name) !== undefined;
  }

  private readonly pkgNodes = new Map<string[], RuleNode | undefined>();
  /** The rule node `name` in a package (package arrays are shared per module, so they key the cache). */
  private packageChild(pkg: string[], name: string): RuleNode | undefined {
    // A query outside any package sees no rules by bare name (only through `data.`).
    if (pkg.length === 0) return undefined;
    let node = this.pkgNodes.get(pkg);
    if (node === undefined && !this.pkgNodes.has(pkg)) {
      node = findNode(this.policy.root, pkg);
      this.pkgNodes.set(pkg, node);
    }
    return node?.children.get(name);
  }

  // ---------- terms ----------

  private evalFirst(t: Term, scope: Scope): Value | undefined {
    let out: Value | undefined;
    this.evalTerm(t, scope, (v) => {
      out = v;
      return true;
    });
    return out;
  }

  evalTerm(t: Term, scope: Scope, k: VK): boolean {
    switch (t.type) {
      case 'scalar':
        return k(t.value);
      case 'var':
        return this.evalVar(t, scope, k);
      case 'ref': {
        const v = this.single(t, scope);
        if (v !== MANY) return v === undefined ? false : k(v);
        return this.evalRef(t, scope, k);
      }
      case 'call': {
        const v = this.single(t, scope);
        if (v !== MANY) return v === undefined ? false : k(v);
        return this.evalCollection(t, scope, k);
      }
      case 'array':
      case 'set':
      case 'object': {
        // Literal collections (e.g. a policy's large `policy_data`) are built once, not on every request.
        const constant = constantValue(t);
        if (constant !== undefined) return k(constant);
        return this.evalCollection(t, scope, k);
      }
      default:
        return this.evalCollection(t, scope, k);
    }
  }

  private evalCollection(t: Term, scope: Scope, k: VK): boolean {
    switch (t.type) {
      case 'scalar':
      case 'var':
      case 'ref':
        return this.evalTerm(t, scope, k);
      case 'array':
        return this.evalItems(t.items, scope, (items) => k(items));
      case 'set':
        return this.evalItems(t.items, scope, (items) => k(new RSet(items)));
      case 'object': {
        const flat: Term[] = [];
        for (const [a, b] of t.entries) flat.push(a, b);
        return this.evalItems(flat, scope, (vals) => {
          const o = new RObject();
          for (let i = 0; i < vals.length; i += 2) {
            if (o.has(vals[i]) && !equals(o.get(vals[i]) as Value, vals[i + 1])) {
              throw new RegoError('eval_conflict_error', 'object keys must be unique', t.loc);
            }
            o.set(vals[i], vals[i + 1]);
          }
          return k(o);
        });
      }
      case 'call':
        return this.evalCall(t, scope, k);
      case 'arraycomp': {
        const out: Value[] = [];
        const inner = new Scope(scope, scope.pkg, scope.imports, scope.rule);
        this.evalBody(t.body, 0, inner, () => this.evalTerm(t.term, inner, (v) => (out.push(v), false)));
        return k(out);
      }
      case 'setcomp': {
        const out = new RSet();
        const inner = new Scope(scope, scope.pkg, scope.imports, scope.rule);
        this.evalBody(t.body, 0, inner, () => this.evalTerm(t.term, inner, (v) => (out.add(v), false)));
        return k(out);
      }
      case 'objectcomp': {
        const out = new RObject();
        const inner = new Scope(scope, scope.pkg, scope.imports, scope.rule);
        this.evalBody(t.body, 0, inner, () =>
          this.evalTerm(t.key, inner, (key) =>
            this.evalTerm(t.value, inner, (v) => {
              const prev = out.get(key);
              if (prev !== undefined && !equals(prev, v)) throw conflict('object keys must be unique', t.loc);
              out.set(key, v);
              return false;
            }),
          ),
        );
        return k(out);
      }
      case 'template': {
        const go = (i: number, acc: string): boolean => {
          if (i === t.parts.length) return k(acc);
          const part = t.parts[i];
          if (typeof part === 'string') return go(i + 1, acc + part);
          const values: Value[] = [];
          this.evalTerm(part, scope, (v) => (values.push(v), false));
          if (values.length > 1) throw new RegoError('eval_conflict_error', 'template-strings must not produce multiple outputs', part.loc);
          return go(i + 1, acc + formatForPrint(values[0]));
        };
        return go(0, '');
      }
      case 'with':
        return this.applyWith(t.with, 0, scope, () => this.evalTerm(t.term, scope, k), () => false);
    }
  }

  /** Builtin arguments: an unbound variable argument is read after the others, which may bind it. */
  private evalArgs(items: readonly Term[], scope: Scope, k: (vals: Value[]) => boolean): boolean {
    const isLate = (a: Term) => a.type === 'var' && a.name !== '_' && scope.lookup(a.name) === UNBOUND;
    if (!items.some(isLate)) return this.evalItems(items, scope, k);
    const late = items.map(isLate);
    const order = [...items.keys()].sort((a, b) => Number(late[a]) - Number(late[b]));
    return this.evalItems(order.map((i) => items[i]), scope, (vals) => {
      const out: Value[] = new Array<Value>(items.length);
      order.forEach((i, j) => (out[i] = vals[j]));
      return k(out);
    });
  }

  private evalItems(items: readonly Term[], scope: Scope, k: (vals: Value[]) => boolean): boolean {
    // One and two operands are most calls (operators, most builtins): no shared buffer to copy.
    if (items.length === 1) return this.evalTerm(items[0], scope, (a) => k([a]));
    if (items.length === 2) return this.evalTerm(items[0], scope, (a) => this.evalTerm(items[1], scope, (b) => k([a, b])));
    const vals: Value[] = new Array(items.length);
    const go = (i: number): boolean => {
      if (i === items.length) return k(vals.slice());
      return this.evalTerm(items[i], scope, (v) => {
        vals[i] = v;
        return go(i + 1);
      });
    };
    return go(0);
  }

  private evalVar(t: Extract<Term, { type: 'var' }>, scope: Scope, k: VK): boolean {
    const v = scope.lookup(t.name);
    if (v !== undefined && v !== UNBOUND) return k(v);
    if (t.name === 'input') return this.overrides.hasInput ? k(this.overrides.input as Value) : false;
    if (t.name === 'data') return this.evalDataRef([], [], scope, k);
    const imp = scope.imports.get(t.name);
    if (imp) return this.evalAbsolute(imp, [], scope, k);
    if (v === undefined && this.packageChild(scope.pkg, t.name)) return this.evalDataRef([...scope.pkg, t.name], [], scope, k);
    throw new RegoError('rego_unsafe_var_error', `var ${t.name} is unsafe`, t.loc);
  }

  private evalAbsolute(path: string[], rest: Term[], scope: Scope, k: VK): boolean {
    if (path[0] === 'input') {
      if (!this.overrides.hasInput) return false;
      return this.walk(this.overrides.input as Value, [...path.slice(1).map((s) => ({ type: 'scalar', value: s, loc: undefined as unknown as Loc }) as Term), ...rest], 0, scope, k);
    }
    return this.evalDataRef(path.slice(1), rest, scope, k);
  }

  private evalRef(t: Extract<Term, { type: 'ref' }>, scope: Scope, k: VK): boolean {
    const head = t.head;
    if (head.type === 'var') {
      const bound = scope.lookup(head.name);
      if (bound !== undefined && bound !== UNBOUND) return this.walk(bound, t.path, 0, scope, k);
      if (head.name === 'input') {
        if (!this.overrides.hasInput) return false;
        return this.walk(this.overrides.input as Value, t.path, 0, scope, k);
      }
      if (head.name === 'data') return this.evalDataRefTerms(t.path, scope, k);
      const imp = scope.imports.get(head.name);
      if (imp) return this.evalAbsolute(imp, t.path, scope, k);
      if (bound === undefined) {
        // A rule of the package named by its bare name (`policy_data.containers`).
        const direct = this.packageRef(t, scope);
        if (direct) return this.evalRuleSetRef(direct, t.path, scope, k);
        if (direct === false) return this.evalDataRef([...scope.pkg, head.name], t.path, scope, k);
      }
      throw new RegoError('rego_unsafe_var_error', `var ${head.name} is unsafe`, head.loc);
    }
    return this.evalTerm(head, scope, (v) => this.walk(v, t.path, 0, scope, k));
  }

  /**
   * What the bare head of a ref names in its package, resolved once per term and policy: the rule set,
   * false for a package subtree without rules of its own, null for neither.
   */
  private packageRef(t: Extract<Term, { type: 'ref' }>, scope: Scope): RuleSet | false | null {
    let direct = this.policy.packageRefs.get(t);
    if (direct === undefined) {
      const child = this.packageChild(scope.pkg, (t.head as Extract<Term, { type: 'var' }>).name);
      direct = child ? (child.ruleSet ?? false) : null;
      this.policy.packageRefs.set(t, direct);
    }
    return direct;
  }

  /** The rule set a ref's bare head names in its package, unless an import of that name shadows it. */
  private packageRuleSet(t: Extract<Term, { type: 'ref' }>, scope: Scope): RuleSet | undefined {
    if (t.head.type !== 'var' || t.head.name === 'data' || scope.imports.has(t.head.name)) return undefined;
    return this.packageRef(t, scope) || undefined;
  }

  /** Indexes into a value along ref path terms, enumerating where a segment is an unbound variable. */
  private walk(value: Value, path: readonly Term[], i: number, scope: Scope, k: VK): boolean {
    // Ground segments with one value (constants, bound variables) index in a loop, without a closure each.
    for (; i < path.length; i++) {
      const seg = path[i];
      if (seg.type !== 'scalar' && this.isPattern(seg, scope)) break;
      const key = this.single(seg, scope);
      if (key === MANY) break;
      if (key === undefined) return false;
      const next = this.index(value, key);
      if (next === undefined) return false;
      value = next;
    }
    if (i === path.length) return k(value);
    const seg = path[i];
    if (this.isPattern(seg, scope)) {
      return this.iterate(value, (key, v) => this.unifyValue(seg, key, scope, () => this.walk(v, path, i + 1, scope, k)));
    }
    return this.evalTerm(seg, scope, (key) => {
      const next = this.index(value, key);
      return next === undefined ? false : this.walk(next, path, i + 1, scope, k);
    });
  }

  private index(value: Value, key: Value): Value | undefined {
    if (value instanceof RObject) return value.get(key);
    if (Array.isArray(value)) return typeof key === 'number' && Number.isInteger(key) && key >= 0 && key < value.length ? value[key] : undefined;
    if (value instanceof RSet) return value.has(key) ? key : undefined;
    return undefined;
  }

  // ---------- data: rules and base documents ----------

  private evalDataRefTerms(path: readonly Term[], scope: Scope, k: VK): boolean {
    // Walk constant segments through the rule tree; stop at the first rule or non-constant segment.
    const consts: string[] = [];
    let i = 0;
    for (; i < path.length; i++) {
      const seg = path[i];
      if (seg.type === 'scalar' && typeof seg.value === 'string') consts.push(seg.value);
      // Base documents are JSON: an integer key names the same member as its decimal string (OPA's storage).
      else if (seg.type === 'scalar' && typeof seg.value === 'number' && Number.isInteger(seg.value) && this.baseAt(consts) instanceof RObject) consts.push(String(seg.value));
      else if (!this.isPattern(seg, scope) && seg.type !== 'scalar') {
        // a bound variable or expression: evaluate it as a key
        let done = false;
        let stop = false;
        stop = this.evalTerm(seg, scope, (key) => {
          done = true;
          const name = typeof key === 'number' && Number.isInteger(key) && this.baseAt(consts) instanceof RObject ? String(key) : key;
          if (typeof name !== 'string') return this.evalDataRef(consts, path.slice(i), scope, k);
          return this.evalDataRefTerms([...consts.map((c) => ({ type: 'scalar', value: c, loc: seg.loc }) as Term), { type: 'scalar', value: name, loc: seg.loc }, ...path.slice(i + 1)], scope, k);
        });
        void done;
        return stop;
      } else break;
    }
    return this.evalDataRef(consts, path.slice(i), scope, k);
  }

  private baseAt(path: readonly string[]): Value | undefined {
    let base: Value | undefined = this.baseData;
    for (const seg of path) base = base instanceof RObject ? base.get(seg) : undefined;
    return base;
  }

  /** Resolves data.<path> then walks `rest` into the result. */
  evalDataRef(path: string[], rest: readonly Term[], scope: Scope, k: VK): boolean {
    // Find the deepest rule set along the path.
    let node: RuleNode | undefined = this.policy.root;
    for (let i = 0; i < path.length; i++) {
      node = node.children.get(path[i]);
      if (!node) break;
      if (node.ruleSet) {
        const restTerms: Term[] = [...path.slice(i + 1).map((s) => ({ type: 'scalar', value: s, loc: node!.ruleSet!.rules[0]?.loc }) as Term), ...rest];
        return this.evalRuleSetRef(node.ruleSet, restTerms, scope, k);
      }
    }
    const full = this.documentAt(path);
    if (full === undefined) return false;
    return this.walk(full, rest, 0, scope, k);
  }

  /** The whole document at a path: base data merged with every virtual document below it. */
  private documentAt(path: string[]): Value | undefined {
    let base: Value | undefined = this.baseData;
    for (const seg of path) base = base instanceof RObject ? base.get(seg) : undefined;
    for (const o of this.overrides.data) {
      if (o.path.length <= path.length && o.path.every((s, i) => s === path[i])) {
        let v: Value | undefined = o.value;
        for (const seg of path.slice(o.path.length)) v = v instanceof RObject ? v.get(seg) : undefined;
        base = v;
      } else if (o.path.length > path.length && path.every((s, i) => s === o.path[i])) {
        base = setAt(base, o.path.slice(path.length), o.value);
      }
    }
    const node = findNode(this.policy.root, path);
    if (!node) return base;
    if (node.children.size === 0) return base ?? (node.isPackage ? new RObject() : undefined);
    const out = structuralObject();
    if (base instanceof RObject) for (const [k, v] of base.entries()) out.set(k, v);
    for (const [name, child] of node.children) {
      const childPath = [...path, name];
      const override = child.ruleSet ? this.dataOverrideFor(childPath) : undefined;
      const v = override
        ? override.value
        : child.ruleSet && child.ruleSet.kind !== 'function'
          ? this.ruleSetValue(child.ruleSet)
          : child.ruleSet
            ? undefined
            : this.documentAt(childPath);
      // A base document wins over a rule of the same name (as OPA's storage-backed lookup does).
      // (A child without rules is a document that already merged its base part.)
      if (v !== undefined && (!child.ruleSet || !out.has(name))) out.set(name, v);
    }
    return out;
  }

  private dataOverrideFor(path: string[]): { value: Value | undefined } | undefined {
    for (let j = this.overrides.data.length - 1; j >= 0; j--) {
      const o = this.overrides.data[j];
      if (o.path.length <= path.length && o.path.every((s, i) => s === path[i])) {
        let v: Value | undefined = o.value;
        for (const seg of path.slice(o.path.length)) v = v instanceof RObject ? v.get(seg) : undefined;
        return { value: v };
      }
    }
    return undefined;
  }

  private evalRuleSetRef(set: RuleSet, rest: readonly Term[], scope: Scope, k: VK): boolean {
    const override = this.dataOverrideFor(set.path);
    if (override) return override.value === undefined ? false : this.walk(override.value, rest, 0, scope, k);
    if (set.kind === 'function') throw new RegoError('rego_type_error', `function data.${set.path.join('.')} must be called`);
    // A ground key into a partial set/object: evaluate just that key when cheap.
    const value = this.ruleSetValue(set);
    if (value === undefined) return false;
    return this.walk(value, rest, 0, scope, k);
  }

  /** The value of a complete rule, partial set or partial object (cached per query). */
  ruleSetValue(set: RuleSet): Value | undefined {
    const key = set;
    const hit = this.cache.get(key);
    if (hit !== undefined || this.cache.has(key)) return hit;
    if (this.inProgress.has(key)) throw new RegoError('rego_recursion_error', `rule data.${set.path.join('.')} is recursive`, set.rules[0]?.loc);
    this.inProgress.add(key);
    try {
      const v = this.computeRuleSet(set);
      this.cache.set(key, v);
      return v;
    } finally {
      this.inProgress.delete(key);
    }
  }

  private readonly moduleImports = new Map<string, Map<string, string[]>>();
  private ruleScope(rule: Rule, ruleName: string): Scope {
    let imports = this.moduleImports.get(rule.module);
    if (!imports) {
      imports = new Map();
      for (const imp of this.policy.modules.get(rule.module)?.imports ?? []) {
        if (imp.path[0] === 'future' || imp.path[0] === 'rego') continue;
        imports.set(imp.alias ?? imp.path[imp.path.length - 1], imp.path);
      }
      this.moduleImports.set(rule.module, imports);
    }
    const scope = new Scope(undefined, rule.pkg, imports, ruleName);
    scope.ruleNode = rule;
    return scope;
  }

  /** rego.metadata.rule() / chain(): the annotations seen from the rule being evaluated (OPA's order). */
  private metadata(which: 'rule' | 'chain', scope: Scope): Value {
    let root = scope;
    while (root.parent) root = root.parent;
    const rule = root.ruleNode;
    const own = rule?.annotations?.scope === 'rule' ? rule.annotations : undefined;
    if (which === 'rule') return fromJson(own ?? {});
    if (!rule || !root.rule) return [];
    const path = root.rule.split('.').slice(1);
    const chain: Json[] = [own ? { path, annotations: own } : { path }];
    const set = findNode(this.policy.root, path)?.ruleSet;
    const doc = [...(set?.rules ?? []), ...(set?.defaultRule ? [set.defaultRule] : [])].find((r) => r.annotations?.scope === 'document');
    if (doc?.annotations) chain.push({ path, annotations: doc.annotations });
    for (let n = rule.pkg.length; n > 0; n--) {
      const prefix = rule.pkg.slice(0, n);
      for (const info of this.policy.modules.values()) {
        const a = info.packageAnnotations;
        if (!a || info.pkg.join('.') !== prefix.join('.')) continue;
        if (n === rule.pkg.length || a.scope === 'subpackages') chain.push({ path: prefix, annotations: a });
      }
    }
    return fromJson(chain);
  }

  private computeRuleSet(set: RuleSet): Value | undefined {
    const name = set.name;
    this.depth++;
    try {
      switch (set.kind) {
        case 'complete': {
          let result: Value | undefined;
          for (const rule of set.rules) {
            const v = this.evalCompleteRule(rule, name, result);
            if (v !== undefined) {
              if (result !== undefined && !equals(result, v)) {
                throw conflict('complete rules must not produce multiple outputs', rule.loc);
              }
              result = v;
              if (set.constantValue) break;
            }
          }
          if (result === undefined && set.defaultRule) result = this.evalFirst(set.defaultRule.head.value as Term, this.ruleScope(set.defaultRule, name));
          return result;
        }
        case 'partialset': {
          const out = new RSet();
          for (const rule of set.rules) {
            const scope = this.ruleScope(rule, name);
            this.trace('enter', 'rule', rule.loc, scope);
            this.evalBody(rule.body, 0, scope, () => this.evalTerm(rule.head.key as Term, scope, (v) => (out.add(v), false)));
          }
          return out;
        }
        case 'partialobject': {
          const out = structuralObject();
          for (const rule of set.rules) {
            const scope = this.ruleScope(rule, name);
            this.trace('enter', 'rule', rule.loc, scope);
            const keys = rule.head.keys ?? [];
            const leafSet = rule.head.key !== undefined;
            const leaf: Term = rule.head.key ?? rule.head.value ?? { type: 'scalar', value: true, loc: rule.loc };
            this.evalBody(rule.body, 0, scope, () =>
              this.evalItems(keys, scope, (keyValues) =>
                this.evalTerm(leaf, scope, (v) => {
                  insertAt(out, keyValues, v, leafSet, rule.loc);
                  return false;
                }),
              ),
            );
          }
          this.mergeChildDocuments(set, out);
          if (out.size === 0 && set.defaultRule) return this.evalFirst(set.defaultRule.head.value as Term, this.ruleScope(set.defaultRule, name));
          return out;
        }
        default:
          return undefined;
      }
    } finally {
      this.depth--;
    }
  }

  /** Rules defined below a ref-head rule's constant path (`p[x] := 1` with `p.d.r := 3`) merge into its object. */
  private mergeChildDocuments(set: RuleSet, out: RObject): void {
    const node = findNode(this.policy.root, set.path);
    if (!node || node.children.size === 0) return;
    for (const [name, child] of node.children) {
      const v = child.ruleSet ? (child.ruleSet.kind === 'function' ? undefined : this.ruleSetValue(child.ruleSet)) : this.documentAt([...set.path, name]);
      if (v === undefined) continue;
      mergeAt(out, name, v, set.rules[0]?.loc);
    }
  }

  /** One complete rule (with its else chain): its value, or undefined. */
  private evalCompleteRule(rule: Rule, name: string, _prior: Value | undefined): Value | undefined {
    for (const branch of completeBranches(rule)) {
      const scope = this.ruleScope(rule, name);
      this.trace('enter', 'rule', branch.loc, scope);
      let result: Value | undefined;
      const valueTerm = branch.value;
      const constant = valueTerm.type === 'scalar';
      this.evalBody(branch.body, 0, scope, () =>
        this.evalTerm(valueTerm, scope, (v) => {
          if (result !== undefined && !equals(result, v)) throw conflict('complete rules must not produce multiple outputs', rule.loc);
          result = v;
          return constant;
        }),
      );
      if (result !== undefined) return result;
    }
    return undefined;
  }

  // ---------- calls ----------

  private evalCall(t: Extract<Term, { type: 'call' }>, scope: Scope, k: VK): boolean {
    const resolved = this.target(t, scope);
    const name = resolved.name;
    if (resolved.print) return this.evalPrint(t, scope, k);
    if (name === 'walk' && (t.args.length === 1 || t.args.length === 2) && !this.overrides.functions.has('walk')) return this.evalWalk(t, scope, k);
    if (this.overrides.functions.size > 0) {
      const mock = this.overrides.functions.get(this.functionKey(t.fn, scope)) ?? this.overrides.functions.get(name);
      if (mock) return this.callMock(mock, t, scope, k);
    }
    const userFn = resolved.userFn;
    if (userFn) return this.callUser(userFn, t, scope, k);
    if ((name === 'rego.metadata.rule' || name === 'rego.metadata.chain') && t.args.length <= 1) {
      const value = this.metadata(name === 'rego.metadata.rule' ? 'rule' : 'chain', scope);
      return t.args.length === 1 ? this.unifyValue(t.args[0], value, scope, () => k(true)) : k(value);
    }
    const spec = resolved.spec;
    if (!spec) throw new RegoError('rego_type_error', `undefined function ${name}`, t.loc);
    const hasOutput = t.args.length === spec.arity + 1;
    if (t.args.length !== spec.arity && !hasOutput) {
      throw new RegoError('rego_type_error', `${name}: arity mismatch\n\thave: ${t.args.length}\n\twant: ${spec.arity}`, t.loc);
    }
    const inputs = hasOutput ? (resolved.inputs ??= t.args.slice(0, -1)) : t.args;
    return this.evalArgs(inputs, scope, (args) => {
      const result = this.runBuiltin(spec, name, args, t);
      if (result === undefined) return false;
      if (hasOutput) return this.unifyValue(t.args[t.args.length - 1], result, scope, () => k(true));
      return k(result);
    });
  }

  /**
   * What a call term calls: a call term always sits in the same module (same package and imports), so it
   * is resolved once per policy. The policy's map is the record; the term keeps the last answer with the
   * policy it is for, since a WeakMap lookup on every call was ~3% of a Kata decision.
   */
  private target(t: Extract<Term, { type: 'call' }>, scope: Scope): CallTarget {
    const last = t.resolved;
    if (last !== undefined && last.policy === this.policy) return last;
    let resolved = this.callTargets.get(t);
    if (!resolved) {
      const fnName = t.fn.join('.');
      const userFn = this.resolveFunction(t.fn, scope);
      const spec = lookupBuiltin(fnName);
      const print = isPrintName(fnName);
      const equality = userFn ? undefined : fnName === 'equal' || fnName === 'eq' ? true : fnName === 'neq' ? false : undefined;
      resolved = { policy: this.policy, name: fnName, userFn, spec, print, direct: !DIRECT_EXCLUDED.has(fnName), memo: !userFn && spec !== undefined && worthMemoising(fnName, spec), equality };
      if (userFn) resolved.arity = functionArity(userFn);
      this.callTargets.set(t, resolved);
    }
    t.resolved = resolved;
    return resolved;
  }

  /**
   * The memo entry of a costly pure builtin call on scalar operands (undefined when an operand is not a
   * scalar): each call site keeps its last call in this query, so a call inside a loop whose operands do
   * not change with the loop is computed once. One entry per site, reused: a memo that kept every call
   * allocated on every miss, and Kata policies miss most (a pattern tried on each environment variable).
   * Only successful results are kept, so an error is raised again where it happens.
   */
  private memoFor(t: Term, args: readonly Value[]): MemoEntry | undefined {
    for (let i = 0; i < args.length; i++) if (!isMemoKey(args[i])) return undefined;
    this.memo ??= new Map();
    let entry = this.memo.get(t);
    if (!entry) {
      this.memo.set(t, (entry = { args, result: undefined }));
      return entry;
    }
    const last = entry.args;
    let same = last.length === args.length;
    for (let i = 0; same && i < args.length; i++) same = last[i] === args[i];
    if (!same) {
      entry.args = args;
      entry.result = undefined;
    }
    return entry;
  }

  /** One builtin call on evaluated arguments: its value, or undefined (errors as OPA reports them). */
  private runBuiltin(spec: BuiltinSpec, name: string, args: Value[], t: Extract<Term, { type: 'call' }>): Value | undefined {
    this.step(t.loc);
    const memo = t.resolved?.memo ? this.memoFor(t, args) : undefined;
    if (memo?.result !== undefined) return memo.result;
    try {
      const result = spec.fn(args, this.ctx);
      if (memo && result !== undefined) memo.result = result;
      return result;
    } catch (error) {
      if (error instanceof BuiltinError) {
        if (this.config.strict) throw new BuiltinError(error.message, t.loc);
        return undefined;
      }
      if (error instanceof EvalTypeError) {
        // Operand type errors of builtin functions are undefined unless strict (OPA's runtime behaviour);
        // arithmetic on wrong types stays an error (OPA rejects it at type-check time), so a policy fails closed visibly.
        if (this.config.strict || OPERATORS.has(name)) throw new EvalTypeError(error.message, t.loc);
        return undefined;
      }
      if (error instanceof RegoError) throw error;
      if (this.config.strict) throw new BuiltinError(`${name}: ${(error as Error).message}`, t.loc);
      return undefined;
    }
  }

  /**
   * The value of a term that has at most one, computed without continuations (no closure per ref
   * segment or call operand): scalars, constant literals, bound variables, refs from a bound variable,
   * `input` or a package rule whose segments are all ground, and calls of builtins and user functions (no
   * output operand, no mock) on such operands. `undefined` when the term has no value; MANY when it is
   * not of that shape, and the caller takes the general path (which also reports whatever error the term
   * raises). Scalars answer at once (the evaluator also makes scalar terms as it goes); other terms run
   * the closure compiled for them once (compileSingle).
   */
  private single(t: Term, scope: Scope): Value | undefined | typeof MANY {
    if (t.type === 'scalar') return t.value;
    return Evaluator.singleFn(t)(this, scope);
  }

  /**
   * A term compiled for `single`: one closure per term, built on its first evaluation, that takes no
   * switch on the term's type and reads none of its fields (the AST's many shapes made those reads
   * megamorphic; single was the costliest function of a Kata decision). What the term resolves to at run
   * time (its call target, the rule a ref names) is still asked of the evaluator, per policy, so one
   * closure serves every policy the parsed module is part of.
   */
  private static compileSingle(t: Term): SingleFn {
    switch (t.type) {
      case 'scalar': {
        const value = t.value;
        return () => value;
      }
      case 'var': {
        const name = t.name;
        return (_ev, scope) => {
          const v = scope.lookup(name);
          return v !== undefined && v !== UNBOUND ? v : MANY;
        };
      }
      case 'ref':
        return Evaluator.compileRef(t);
      case 'array':
      case 'set':
      case 'object': {
        const constant = constantValue(t);
        return constant === undefined ? () => MANY : () => constant;
      }
      case 'call':
        return Evaluator.compileCall(t);
      default:
        return () => MANY;
    }
  }

  private static compileRef(t: Extract<Term, { type: 'ref' }>): SingleFn {
    const head = t.head;
    if (head.type !== 'var') return () => MANY;
    const name = head.name;
    const isInput = name === 'input';
    const path = t.path;
    const n = path.length;
    // Per segment: its constant key, or the variable it reads; `other` is the first segment of neither kind.
    const keys: Value[] = [];
    const vars: (string | undefined)[] = [];
    let other = n;
    for (let i = 0; i < n; i++) {
      const seg = path[i];
      if (seg.type === 'scalar') {
        keys.push(seg.value);
        vars.push(undefined);
      } else if (seg.type === 'var') {
        keys.push(null);
        vars.push(seg.name);
      } else {
        other = i;
        break;
      }
    }
    return (ev, scope) => {
      let value: Value | undefined;
      const bound = scope.lookup(name);
      if (bound !== undefined && bound !== UNBOUND) value = bound;
      else if (isInput && bound === undefined) {
        if (!ev.overrides.hasInput) return undefined;
        value = ev.overrides.input as Value;
      } else if (bound === undefined) {
        // A rule of the package by its bare name (`policy_data.common.cpath`): its value is cached per query.
        const set = ev.packageRuleSet(t, scope);
        if (!set || set.kind === 'function' || ev.overrides.data.length > 0) return MANY;
        const v = ev.ruleSetValue(set);
        if (v === undefined) return undefined;
        value = v;
      } else return MANY;
      for (let i = 0; i < other; i++) {
        let key: Value;
        const varName = vars[i];
        if (varName === undefined) key = keys[i];
        else {
          const v = scope.lookup(varName);
          if (v === undefined || v === UNBOUND) return MANY;
          key = v;
        }
        const next = ev.index(value, key);
        if (next === undefined) return undefined;
        value = next;
      }
      return other < n ? MANY : value;
    };
  }

  private static compileCall(t: Extract<Term, { type: 'call' }>): SingleFn {
    const operands = t.args.map((a) => Evaluator.singleFn(a));
    const n = operands.length;
    return (ev, scope) => {
      // Plain builtins and user functions called without an output operand, with nothing mocked.
      if (ev.overrides.functions.size > 0) return MANY;
      const resolved = ev.target(t, scope);
      const userFn = resolved.userFn;
      const spec = resolved.spec;
      if (userFn) {
        if (n !== resolved.arity) return MANY;
      } else if (!spec || n !== spec.arity || !resolved.direct) return MANY;
      const args: Value[] = new Array<Value>(n);
      for (let i = 0; i < n; i++) {
        const v = operands[i](ev, scope);
        if (v === MANY) return MANY;
        if (v === undefined) return undefined;
        args[i] = v;
      }
      if (userFn) return ev.invoke(userFn, args);
      if (resolved.equality !== undefined) {
        // `==` and `!=`, a third of a Kata decision's builtin calls: no builtin frame (they cannot fail).
        ev.step(t.loc);
        return equals(args[0], args[1]) === resolved.equality;
      }
      return ev.runBuiltin(spec as BuiltinSpec, resolved.name, args, t);
    };
  }

  /** walk(x) yields [path, value] for x and every nested value, pre-order (OPA's walk). */
  private evalWalk(t: Extract<Term, { type: 'call' }>, scope: Scope, k: VK): boolean {
    return this.evalTerm(t.args[0], scope, (root) => {
      const visit = (path: Value[], v: Value): boolean => {
        this.step(t.loc);
        const pair: Value = [path, v];
        if (t.args.length === 1 ? k(pair) : this.unifyValue(t.args[1], pair, scope, () => k(true))) return true;
        if (v instanceof RObject) {
          for (const [key, child] of v.sortedEntries()) if (visit([...path, key], child)) return true;
        } else if (Array.isArray(v)) {
          for (let i = 0; i < v.length; i++) if (visit([...path, i], v[i])) return true;
        } else if (v instanceof RSet) {
          for (const child of v.sorted()) if (visit([...path, child], child)) return true;
        }
        return false;
      };
      return visit([], root);
    });
  }

  private evalPrint(t: Extract<Term, { type: 'call' }>, scope: Scope, k: VK): boolean {
    this.logPrint(t, scope);
    return k(true);
  }

  /** Logs one print call's operands. */
  private logPrint(t: Extract<Term, { type: 'call' }>, scope: Scope): void {
    if (this.config.prints === false) return;
    // Values are kept and formatted only when someone reads `prints` (formatting is costly and often unread).
    // Kata policies print on almost every step, mostly literals, bound variables and ground refs: those
    // are kept as themselves, one array per print call.
    const args = t.args;
    const perArg: PrintArg[] = new Array<PrintArg>(args.length);
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      const v = this.single(a, scope);
      if (v !== MANY) {
        perArg[i] = v === undefined ? NO_VALUES : v;
        continue;
      }
      const vals: Value[] = [];
      try {
        this.evalTerm(a, scope, (v) => (vals.push(v), false));
      } catch (error) {
        if (!(error instanceof RegoError) || error.regoCode !== 'rego_unsafe_var_error') throw error;
      }
      perArg[i] = vals.length === 1 ? vals[0] : new PrintValues(vals);
    }
    this.printLog.push(perArg);
    this.printLines = undefined;
  }

  /** Print output, one line per print call and combination of operand values; `<undefined>` for none. */
  get prints(): string[] {
    return (this.printLines ??= printLines(this.printLog));
  }

  private resolveFunction(fn: string[], scope: Scope): RuleSet | undefined {
    let path: string[] | undefined;
    if (fn[0] === 'data') path = fn.slice(1);
    else if (scope.imports.has(fn[0])) {
      const imp = scope.imports.get(fn[0]) as string[];
      if (imp[0] === 'data') path = [...imp.slice(1), ...fn.slice(1)];
    } else {
      const direct = fn.length === 1 ? this.packageChild(scope.pkg, fn[0]) : undefined;
      if (direct) return direct.ruleSet?.kind === 'function' ? direct.ruleSet : undefined;
      path = [...scope.pkg, ...fn];
    }
    if (!path) return undefined;
    const node = findNode(this.policy.root, path);
    return node?.ruleSet?.kind === 'function' ? node.ruleSet : undefined;
  }

  private callMock(mock: Term, t: Extract<Term, { type: 'call' }>, scope: Scope, k: VK): boolean {
    const target = this.refPathStrings(mock);
    if (target) {
      const userFn = this.resolveFunction(target, scope);
      if (userFn || lookupBuiltin(target.join('.'))) {
        // The arguments are evaluated where the call stands, under every mock (they may use other mocked
        // functions); only the replacement itself runs without mocks (OPA: a mock never calls another mock).
        const original = this.resolveFunction(t.fn, scope);
        const arity = original
          ? (original.rules[0]?.head.args?.length ?? original.defaultRule?.head.args?.length ?? t.args.length)
          : (lookupBuiltin(t.fn.join('.'))?.arity ?? t.args.length);
        const inputs = t.args.slice(0, arity);
        return this.evalItems(inputs, scope, (vals) => {
          const args: Term[] = [...vals.map((value): Term => ({ type: 'scalar', value, loc: t.loc })), ...t.args.slice(arity)];
          const fnTerm: Term = { type: 'call', fn: target, args, loc: t.loc };
          const saved = this.overrides.functions;
          this.overrides = { ...this.overrides, functions: new Map() };
          try {
            return this.evalCall(fnTerm as Extract<Term, { type: 'call' }>, scope, (v) => {
              this.overrides = { ...this.overrides, functions: saved };
              try {
                return k(v);
              } finally {
                this.overrides = { ...this.overrides, functions: new Map() };
              }
            });
          } finally {
            this.overrides = { ...this.overrides, functions: saved };
          }
        });
      }
    }
    return this.evalItems(t.args, scope, () => this.evalTerm(mock, scope, k));
  }

  private callUser(set: RuleSet, t: Extract<Term, { type: 'call' }>, scope: Scope, k: VK): boolean {
    const arity = functionArity(set);
    const hasOutput = t.args.length === arity + 1;
    if (t.args.length !== arity && !hasOutput) {
      throw new RegoError('rego_type_error', `function data.${set.path.join('.')} has arity ${arity}, got ${t.args.length} arguments`, t.loc);
    }
    const inputs = hasOutput ? t.args.slice(0, -1) : t.args;
    return this.evalItems(inputs, scope, (args) => {
      const result = this.invoke(set, args);
      if (result === undefined) return false;
      if (hasOutput) return this.unifyValue(t.args[t.args.length - 1], result, scope, () => k(true));
      return k(result);
    });
  }

  private invoke(set: RuleSet, args: Value[]): Value | undefined {
    const name = set.name;
    this.depth++;
    if (this.depth > 1000) throw new RegoError('rego_recursion_error', `call depth exceeded in ${name}`);
    let result: Value | undefined;
    try {
      for (const rule of set.rules) {
        const shape = functionShape(rule);
        let ruleResult: Value | undefined;
        for (const branch of shape.branches) {
          const scope = this.ruleScope(rule, name);
          this.trace('enter', 'rule', branch.loc, scope);
          const params = shape.params;
          const valueTerm = branch.value;
          let branchResult: Value | undefined;
          const onValue = (v: Value): boolean => {
            if (branchResult !== undefined && !equals(branchResult, v)) throw conflict('functions must not produce multiple outputs for same inputs', rule.loc);
            branchResult = v;
            return valueTerm.type === 'scalar';
          };
          // Most functions give a constant (`true`): no evalTerm for it.
          const value = valueTerm.type === 'scalar' ? () => onValue(valueTerm.value) : () => this.evalTerm(valueTerm, scope, onValue);
          const afterBody = shape.computed ? () => this.checkComputedParams(params, args, scope, value) : value;
          // Parameters are local even when a rule of the package has the same name.
          if (shape.plainVars) {
            // The common case: every parameter is a distinct variable; bind them directly.
            const names = shape.names;
            for (let i = 0; i < names.length; i++) if (names[i] !== '') scope.vars.set(names[i], args[i]);
            this.evalBody(branch.body, 0, scope, afterBody);
          } else {
            for (const param of params) this.declarePatternVars(param, scope);
            this.bindParams(params, args, 0, scope, () => this.evalBody(branch.body, 0, scope, afterBody));
          }
          if (branchResult !== undefined) {
            ruleResult = branchResult;
            break;
          }
        }
        if (ruleResult !== undefined) {
          if (result !== undefined && !equals(result, ruleResult)) throw conflict('functions must not produce multiple outputs for same inputs', rule.loc);
          result = ruleResult;
          if (set.constantValue) break;
        }
      }
      if (result === undefined && set.defaultRule) result = this.evalFirst(set.defaultRule.head.value as Term, this.ruleScope(set.defaultRule, name));
    } finally {
      this.depth--;
    }
    return result;
  }

  private bindParams(params: readonly Term[], args: readonly Value[], i: number, scope: Scope, k: K): boolean {
    if (i === params.length) return k();
    if (isComputedParam(params[i])) return this.bindParams(params, args, i + 1, scope, k);
    return this.unifyValue(params[i], args[i], scope, () => this.bindParams(params, args, i + 1, scope, k));
  }

  /** Arguments that are computed terms (`f($"{x}")`, `f(x + 1)`) are compared after the body, as OPA rewrites them. */
  private checkComputedParams(params: readonly Term[], args: readonly Value[], scope: Scope, k: K): boolean {
    const go = (i: number): boolean => {
      if (i === params.length) return k();
      if (!isComputedParam(params[i])) return go(i + 1);
      return this.evalTerm(params[i], scope, (v) => equals(v, args[i]) && go(i + 1));
    };
    return go(0);
  }
}

/** Whether a call's dotted function name is print() (the parser writes some as internal.print). */
function isPrintName(name: string): boolean {
  return name === 'print' || name === 'internal.print';
}

/** Marks a term that `single` leaves to the general, continuation-passing path. */
const MANY = Symbol('many');
/** Calls the evaluator handles itself (evalCall), never as plain builtins. */
const DIRECT_EXCLUDED = new Set(['print', 'internal.print', 'walk', 'rego.metadata.rule', 'rego.metadata.chain']);

const OPERATORS = new Set(['plus', 'minus', 'mul', 'div', 'rem', 'and', 'or']);

/** Converts engine input (JSON or Value) to a Value. */
export function toValue(x: unknown): Value {
  return fromJson(x);
}

export { compare, typeName };
