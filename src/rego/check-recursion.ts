/**
 * The recursion check of the check stage, as OPA's compiler runs it (checkRecursion): rules and
 * functions form a graph by what they refer to (rule names of their package, `data` refs, imports, user
 * function calls); a rule that reaches itself is `rego_recursion_error: rule p is recursive: p -> q -> p`
 * at the rule's location. A constant ref to a package or to `data` itself depends on every rule below
 * it; a dynamic ref (`data[x].p`) only on the rules along its constant prefix, as in OPA.
 *
 * Variables a rule declares (`:=`, `some`, `every`, function parameters) are locals, not rule refs; this
 * is judged per rule, not per scope, so the check can only miss a cycle (the evaluator still stops one
 * at run time), never invent one.
 */
import type { Expr, Module, Rule, Term } from './ast.js';
import { findNode, userFunction, type CompiledPolicy, type RuleNode, type RuleSet } from './compile.js';
import { RegoError } from './errors.js';
import { declaredNames } from './safety.js';
import { eachChild, eachExprTerm } from './walk.js';

interface RuleContext {
  policy: CompiledPolicy;
  pkg: string[];
  imports: Map<string, string[]>;
  /** The package's node in the rule tree: a bare variable names a rule when it is a child here. */
  pkgNode: RuleNode | undefined;
  declared: Set<string>;
  out: Set<RuleSet>;
}

/** The first recursion error of a policy, in module and rule order. */
export function recursionError(policy: CompiledPolicy, modules: Iterable<Module>, importsOf: (mod: Module) => Map<string, string[]>): RegoError | undefined {
  const deps = new Map<RuleSet, Set<RuleSet>>();
  const order: { set: RuleSet; rule: Rule }[] = [];
  for (const mod of modules) {
    const imports = importsOf(mod);
    const pkgNode = findNode(policy.root, mod.pkg);
    for (const rule of mod.rules) {
      const set = ruleSetOf(policy, rule);
      if (!set) continue;
      let out = deps.get(set);
      if (!out) {
        deps.set(set, (out = new Set()));
        order.push({ set, rule });
      }
      collectRule({ policy, pkg: mod.pkg, imports, pkgNode, declared: declaredVars(rule), out }, rule);
    }
  }
  const cyclic = onCycles(deps);
  for (const { set, rule } of order) {
    if (!cyclic.has(set)) continue;
    const cycle = cycleThrough(set, deps);
    if (cycle) {
      const names = cycle.map((s) => headName(s));
      return new RegoError('rego_recursion_error', `rule ${names[0]} is recursive: ${names.join(' -> ')}`, rule.loc);
    }
  }
  return undefined;
}

function ruleSetOf(policy: CompiledPolicy, rule: Rule): RuleSet | undefined {
  const constant: string[] = [];
  for (const t of rule.head.ref) {
    if (t.type === 'scalar' && typeof t.value === 'string') constant.push(t.value);
    else break;
  }
  return findNode(policy.root, [...rule.pkg, ...constant])?.ruleSet;
}

/** A rule's name as OPA prints it in the cycle: its path below its package. */
function headName(set: RuleSet): string {
  const rule = set.rules[0] ?? set.defaultRule;
  return set.path.slice(rule ? rule.pkg.length : 0).join('.');
}

/**
 * The rule sets that lie on some cycle: members of a strongly connected component of more than one, or
 * with an edge to themselves (Tarjan's algorithm, so the whole graph is walked once).
 */
function onCycles(deps: Map<RuleSet, Set<RuleSet>>): Set<RuleSet> {
  const index = new Map<RuleSet, number>();
  const low = new Map<RuleSet, number>();
  const stack: RuleSet[] = [];
  const onStack = new Set<RuleSet>();
  const out = new Set<RuleSet>();
  const visit = (v: RuleSet): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    onStack.add(v);
    for (const w of deps.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: RuleSet[] = [];
    let w: RuleSet;
    do {
      w = stack.pop() as RuleSet;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || deps.get(v)?.has(v)) for (const c of component) out.add(c);
  };
  for (const v of deps.keys()) if (!index.has(v)) visit(v);
  return out;
}

/** The shortest path start -> ... -> start, or undefined (breadth first, so the reported loop is short). */
function cycleThrough(start: RuleSet, deps: Map<RuleSet, Set<RuleSet>>): RuleSet[] | undefined {
  const parent = new Map<RuleSet, RuleSet>();
  const queue: RuleSet[] = [start];
  while (queue.length) {
    const at = queue.shift() as RuleSet;
    for (const next of deps.get(at) ?? []) {
      if (next === start) {
        const path = [start];
        for (let s: RuleSet | undefined = at; s && s !== start; s = parent.get(s)) path.splice(1, 0, s);
        path.push(start);
        return path;
      }
      if (!parent.has(next)) {
        parent.set(next, at);
        queue.push(next);
      }
    }
  }
  return undefined;
}

/** Names a rule binds itself: `:=` targets, `some`, `every`, `some ... in`, function parameters. */
function declaredVars(rule: Rule): Set<string> {
  const out = new Set<string>();
  const vars = (t: Term | undefined) => eachVar(t, (name) => out.add(name));
  for (const a of rule.head.args ?? []) vars(a);
  const body = (exprs: readonly Expr[]) => {
    for (const n of declaredNames(exprs)) out.add(n);
    for (const e of exprs) {
      if (e.kind === 'every') {
        if (e.key) out.add(e.key);
        out.add(e.value);
        body(e.body);
      } else if (e.kind === 'not') body([e.expr]);
      eachExprTerm(e, (t) => eachTerm(t, (x) => (x.type === 'arraycomp' || x.type === 'setcomp' || x.type === 'objectcomp' ? body(x.body) : undefined)));
    }
  };
  body(rule.body);
  for (const branch of rule.elses) body(branch.body);
  return out;
}

function collectRule(ctx: RuleContext, rule: Rule): void {
  for (const t of rule.head.ref.slice(1)) collectTerm(ctx, t);
  for (const t of [rule.head.key, rule.head.value]) if (t) collectTerm(ctx, t);
  for (const body of [rule.body, ...rule.elses.map((b) => b.body)]) collectBody(ctx, body);
  for (const branch of rule.elses) if (branch.value) collectTerm(ctx, branch.value);
}

function collectBody(ctx: RuleContext, body: readonly Expr[]): void {
  for (const e of body) {
    for (const w of e.with) collectTerm(ctx, w.value);
    if (e.kind === 'not') collectBody(ctx, [e.expr]);
    else if (e.kind === 'every') {
      collectTerm(ctx, e.collection);
      collectBody(ctx, e.body);
    } else eachExprTerm(e, (t) => collectTerm(ctx, t));
  }
}

function collectTerm(ctx: RuleContext, t: Term): void {
  switch (t.type) {
    case 'scalar':
      return;
    case 'var':
      return dependOn(ctx, headPath(ctx, t.name), true);
    case 'ref': {
      if (t.head.type === 'var') {
        const base = headPath(ctx, t.head.name);
        if (base) {
          const path = [...base];
          let constant = true;
          for (const p of t.path) {
            if (constant && p.type === 'scalar' && typeof p.value === 'string') path.push(p.value);
            else constant = false;
          }
          dependOn(ctx, path, constant);
        }
      } else collectTerm(ctx, t.head);
      for (const p of t.path) collectTerm(ctx, p);
      return;
    }
    case 'call': {
      const fn = userFunction(ctx.policy, ctx.pkg, ctx.imports, t.fn);
      if (fn) ctx.out.add(fn);
      for (const a of t.args) collectTerm(ctx, a);
      return;
    }
    case 'with':
      collectTerm(ctx, t.term);
      for (const w of t.with) collectTerm(ctx, w.value);
      return;
    case 'arraycomp':
    case 'setcomp':
      collectTerm(ctx, t.term);
      return collectBody(ctx, t.body);
    case 'objectcomp':
      collectTerm(ctx, t.key);
      collectTerm(ctx, t.value);
      return collectBody(ctx, t.body);
    default:
      eachChild(t, (c) => collectTerm(ctx, c));
  }
}

/** The data path a variable stands for (`data`, an import alias, a rule of the package), or undefined. */
function headPath(ctx: RuleContext, name: string): string[] | undefined {
  if (name === 'data') return [];
  if (name === 'input' || name === '_' || ctx.declared.has(name)) return undefined;
  const imp = ctx.imports.get(name);
  if (imp) return imp[0] === 'data' ? imp.slice(1) : undefined;
  return ctx.pkgNode?.children.has(name) ? [...ctx.pkg, name] : undefined;
}

/** Adds the rules along `path` and, when `subtree`, every rule below where it ends. */
function dependOn(ctx: RuleContext, path: string[] | undefined, subtree: boolean): void {
  if (!path) return;
  let node: RuleNode | undefined = ctx.policy.root;
  for (const seg of path) {
    node = node.children.get(seg);
    if (!node) return;
    if (node.ruleSet) {
      if (node.ruleSet.kind !== 'function') ctx.out.add(node.ruleSet);
      return;
    }
  }
  if (subtree) addBelow(node, ctx.out);
}

function addBelow(node: RuleNode, out: Set<RuleSet>): void {
  const stack = [node];
  while (stack.length) {
    const n = stack.pop() as RuleNode;
    if (n.ruleSet && n.ruleSet.kind !== 'function') out.add(n.ruleSet);
    stack.push(...n.children.values());
  }
}

/** Every term inside t (t included), not descending into comprehension bodies. */
function eachTerm(t: Term, f: (t: Term) => void): void {
  f(t);
  eachChild(t, (c) => eachTerm(c, f));
}

function eachVar(t: Term | undefined, f: (name: string) => void): void {
  if (t) eachTerm(t, (x) => (x.type === 'var' ? f(x.name) : undefined));
}
